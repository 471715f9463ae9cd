// Every loaded indicator, indexed for matching on the per-event path: hash maps for addresses, domains, URLs and
// file hashes, CIDR tries for blocks. Built off to the side and swapped in whole when a feed is refreshed.
import { parseIpv4, parseIpv6 } from '../../core/ip.js';
import { CidrTrie, v6Words } from './cidr-trie.js';
import { canonicalDomain, canonicalUrl, type Indicator, type IndicatorKind } from './indicator.js';

/** A feed's entry that matched. */
export interface IndicatorHit {
  feed: string;
  indicator: Indicator;
}

function push<K>(map: Map<K, IndicatorHit[]>, key: K, hit: IndicatorHit): void {
  const list = map.get(key);
  if (list) list.push(hit);
  else map.set(key, [hit]);
}

export class IndicatorIndex {
  private readonly v4 = new Map<number, IndicatorHit[]>();
  private readonly v6 = new Map<bigint, IndicatorHit[]>();
  private readonly v4Blocks = new CidrTrie<IndicatorHit>(32);
  private readonly v6Blocks = new CidrTrie<IndicatorHit>(128);
  private readonly domains = new Map<string, IndicatorHit[]>();
  private readonly urls = new Map<string, IndicatorHit[]>();
  private readonly hashes = new Map<string, IndicatorHit[]>();
  private readonly words = new Uint32Array(1);
  size = 0;

  add(feed: string, indicator: Indicator): void {
    const hit: IndicatorHit = { feed, indicator };
    switch (indicator.kind) {
      case 'ip': {
        const v4 = parseIpv4(indicator.value);
        if (v4 !== undefined) push(this.v4, v4, hit);
        else {
          const v6 = parseIpv6(indicator.value);
          if (v6 === undefined) return;
          push(this.v6, v6, hit);
        }
        break;
      }
      case 'cidr': {
        const slash = indicator.value.indexOf('/');
        const address = indicator.value.slice(0, slash);
        const prefix = Number(indicator.value.slice(slash + 1));
        const v4 = parseIpv4(address);
        if (v4 !== undefined) this.v4Blocks.insert(Uint32Array.of(v4), prefix, hit);
        else {
          const v6 = parseIpv6(address);
          if (v6 === undefined) return;
          this.v6Blocks.insert(v6Words(v6), prefix, hit);
        }
        break;
      }
      case 'domain':
        push(this.domains, indicator.value, hit);
        break;
      case 'url':
        push(this.urls, indicator.value, hit);
        break;
      case 'hash':
        push(this.hashes, indicator.value, hit);
        break;
    }
    this.size++;
  }

  /** Feeds listing the address or a block containing it. IPv4-mapped IPv6 is compared as IPv4. */
  matchIp(text: string): IndicatorHit[] | undefined {
    let v4 = parseIpv4(text);
    let v6: bigint | undefined;
    if (v4 === undefined) {
      v6 = parseIpv6(text);
      if (v6 === undefined) return undefined;
      if (v6 >> 32n === 0xffffn) v4 = Number(v6 & 0xffffffffn);
    }
    if (v4 !== undefined) {
      const exact = this.v4.get(v4);
      if (this.v4Blocks.blocks === 0) return exact;
      this.words[0] = v4;
      const blocks = this.v4Blocks.match(this.words);
      return exact && blocks ? exact.concat(blocks) : (exact ?? blocks);
    }
    const exact = this.v6.get(v6!);
    const blocks = this.v6Blocks.blocks === 0 ? undefined : this.v6Blocks.match(v6Words(v6!));
    return exact && blocks ? exact.concat(blocks) : (exact ?? blocks);
  }

  /** Feeds listing the domain or one of its parents (a listed `evil.example` covers `cdn.evil.example`). */
  matchDomain(text: string): IndicatorHit[] | undefined {
    if (this.domains.size === 0) return undefined;
    const domain = canonicalDomain(text);
    if (domain === undefined) return undefined;
    let found: IndicatorHit[] | undefined;
    let name = domain;
    for (;;) {
      const hits = this.domains.get(name);
      if (hits) found = found ? found.concat(hits) : hits;
      const dot = name.indexOf('.');
      if (dot < 0) break;
      name = name.slice(dot + 1);
    }
    return found;
  }

  matchUrl(text: string): IndicatorHit[] | undefined {
    if (this.urls.size === 0) return undefined;
    // A path alone (`/index.php`, what access logs hold) is no URL to compare.
    if (text.length === 0 || text.charCodeAt(0) === 47) return undefined;
    const url = canonicalUrl(text);
    return url === undefined ? undefined : this.urls.get(url);
  }

  matchHash(text: string): IndicatorHit[] | undefined {
    if (this.hashes.size === 0) return undefined;
    return this.hashes.get(text.toLowerCase());
  }

  match(kind: IndicatorKind, value: string): IndicatorHit[] | undefined {
    switch (kind) {
      case 'ip':
      case 'cidr':
        return this.matchIp(value);
      case 'domain':
        return this.matchDomain(value);
      case 'url':
        return this.matchUrl(value);
      case 'hash':
        return this.matchHash(value);
    }
  }

  /** Indicators per kind, for health and the feeds API. */
  counts(): Record<IndicatorKind, number> {
    const total = (m: Map<unknown, IndicatorHit[]>) => {
      let n = 0;
      for (const list of m.values()) n += list.length;
      return n;
    };
    return { ip: total(this.v4) + total(this.v6), cidr: this.size - total(this.v4) - total(this.v6) - total(this.domains) - total(this.urls) - total(this.hashes), domain: total(this.domains), url: total(this.urls), hash: total(this.hashes) };
  }
}
