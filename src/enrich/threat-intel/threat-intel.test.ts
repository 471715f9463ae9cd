// Threat intelligence: feed formats, the index (CIDR tries checked against a plain scan), feeds from files and a
// local HTTP server with refresh and failure, ECS tagging by the enrichment stage, and the threat-intel detector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { geoipSchema, threatIntelSchema } from '../../config/enrich.js';
import { ManualClock } from '../../core/clock.js';
import type { EcsEvent } from '../../core/event.js';
import { parseCidr, parseIp } from '../../core/ip.js';
import { Enrichment } from '../index.js';
import { parseCsv, parseStix, parseText, stixPatternValues } from './formats.js';
import { parseIndicator } from './indicator.js';
import { IndicatorIndex } from './indicator-index.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

const event = (id: string, fields: Record<string, unknown>): EcsEvent => ({ '@timestamp': '2024-05-01T12:00:00.000Z', event: { id, dataset: 'test' }, ...fields });

test('indicators are recognised and put in canonical form', () => {
  assert.deepEqual(parseIndicator('203.0.113.7'), { kind: 'ip', value: '203.0.113.7' });
  assert.deepEqual(parseIndicator('2001:DB8:0:0::1'), { kind: 'ip', value: '2001:db8::1' });
  assert.deepEqual(parseIndicator('203.0.113.0/24'), { kind: 'cidr', value: '203.0.113.0/24' });
  assert.deepEqual(parseIndicator('203.0.113.9/32'), { kind: 'ip', value: '203.0.113.9' });
  assert.deepEqual(parseIndicator('Evil.Example.'), { kind: 'domain', value: 'evil.example' });
  assert.deepEqual(parseIndicator('HTTP://Evil.Example:80/Pay?x=1#frag'), { kind: 'url', value: 'evil.example/Pay?x=1' });
  assert.deepEqual(parseIndicator('evil.example/drop.exe'), { kind: 'url', value: 'evil.example/drop.exe' });
  assert.deepEqual(parseIndicator('D41D8CD98F00B204E9800998ECF8427E'), { kind: 'hash', value: 'd41d8cd98f00b204e9800998ecf8427e' });
  for (const junk of ['', 'hello', '999.1.1.1', '10.0.0.0/33', 'a..b', 'x'.repeat(5000)]) assert.equal(parseIndicator(junk), undefined, junk);
  assert.equal(parseIndicator('evil.example', 'ip'), undefined);
  assert.equal(parseIndicator('10.0.0.1', 'domain'), undefined);
});

test('text, CSV and STIX 2.1 feeds', async () => {
  const text = await parseText('# a comment\n203.0.113.7 # scanner\n198.51.100.0/24\n\nevil.example ; c\nnot an indicator\n', { type: 'auto' });
  assert.deepEqual(text.indicators.map((i) => i.value), ['203.0.113.7', '198.51.100.0/24', 'evil.example']);
  assert.equal(text.invalid, 1);

  const csv = await parseCsv('# URLhaus style\nid,dateadded,url,url_status\n1,2024-01-01,"http://evil.example/a,b",online\n2,2024-01-02,http://bad.example/x,offline\n3,x,,y\n', { type: 'url', column: 'url', header: true, delimiter: ',' });
  assert.deepEqual(csv.indicators.map((i) => i.value), ['evil.example/a,b', 'bad.example/x']);
  assert.equal(csv.invalid, 1);
  await assert.rejects(parseCsv('a,b\n1,2\n', { type: 'auto', column: 'nope', header: true, delimiter: ',' }), /no column "nope"/);

  assert.deepEqual(stixPatternValues("[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33'] AND [file:hashes.'SHA-256' = 'AB\\'CD']"), [
    { kind: 'ip', value: '198.51.100.1/32' },
    { kind: 'ip', value: '203.0.113.33' },
    { kind: 'hash', value: "AB'CD" },
  ]);
  const bundle = {
    type: 'bundle',
    id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
    objects: [
      { type: 'indicator', spec_version: '2.1', id: 'indicator--1', created: '2024-01-01T00:00:00Z', modified: '2024-02-01T00:00:00Z', name: 'C2', description: 'Known C2 server', pattern: "[ipv4-addr:value = '203.0.113.66']", pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z', confidence: 85, indicator_types: ['malicious-activity'], external_references: [{ source_name: 'x', url: 'https://intel.example/c2' }] },
      { type: 'indicator', spec_version: '2.1', id: 'indicator--2', pattern: "[domain-name:value = 'c2.evil.example']", pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z', valid_until: '2024-03-01T00:00:00Z' },
      { type: 'indicator', spec_version: '2.1', id: 'indicator--3', pattern: "[url:value = 'http://evil.example/x']", pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z', revoked: true },
      { type: 'indicator', spec_version: '2.1', id: 'indicator--4', pattern: 'rule x { }', pattern_type: 'yara', valid_from: '2024-01-01T00:00:00Z' },
      { type: 'indicator', spec_version: '2.1', id: 'indicator--5', pattern: "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']", pattern_type: 'stix', valid_from: '2024-01-01T00:00:00Z' },
      { type: 'malware', id: 'malware--1', name: 'x' },
    ],
  };
  const stix = await parseStix(JSON.stringify(bundle), T0);
  assert.deepEqual(stix.indicators.map((i) => [i.kind, i.value]), [
    ['ip', '203.0.113.66'],
    ['hash', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ]);
  assert.deepEqual(stix.indicators[0]!.meta, { description: 'Known C2 server', confidence: 85, first_seen: '2024-01-01T00:00:00Z', last_seen: '2024-02-01T00:00:00Z', id: 'indicator--1', name: 'C2', labels: ['malicious-activity'], reference: 'https://intel.example/c2' });
  assert.equal(stix.expired, 2);
  await assert.rejects(parseStix('{"type":"x"}', T0), /not a STIX bundle/);
  await assert.rejects(parseStix('{', T0), /invalid JSON/);
});

test('the index matches addresses in blocks exactly as a scan of the blocks would', () => {
  const cidr = fc.oneof(
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, p]) => `${ip}/${p}`),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([ip, p]) => `${ip}/${p}`),
  );
  fc.assert(
    fc.property(fc.array(cidr, { maxLength: 30 }), fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 30 }), (blocks, probes) => {
      const index = new IndicatorIndex();
      // Families are kept apart: an IPv6 block does not cover IPv4 (or IPv4-mapped) addresses.
      const v4 = (text: string) => parseIp(text)! >> 32n === 0xffffn;
      const ranges: { value: string; low: bigint; high: bigint; v4: boolean }[] = [];
      for (const block of blocks) {
        const indicator = parseIndicator(block, 'cidr');
        if (!indicator) continue;
        index.add('f', indicator);
        const range = indicator.kind === 'cidr' ? parseCidr(indicator.value)! : { low: parseIp(indicator.value)!, high: parseIp(indicator.value)! };
        ranges.push({ value: indicator.value, ...range, v4: !block.split('/')[0]!.includes(':') });
      }
      // Probes inside the blocks too, not only random ones.
      const all = [...probes, ...blocks.map((b) => b.split('/')[0]!)];
      for (const probe of all) {
        const value = parseIp(probe);
        if (value === undefined) continue;
        const expected = ranges.filter((r) => r.v4 === v4(probe) && r.low <= value && value <= r.high).map((r) => r.value).sort();
        const got = (index.matchIp(probe) ?? []).map((h) => h.indicator.value).sort();
        assert.deepEqual(got, expected, probe);
      }
    }),
    { numRuns: 300 },
  );
});

test('domains match with their subdomains, URLs and hashes exactly', () => {
  const index = new IndicatorIndex();
  for (const v of ['evil.example', 'http://bad.example/pay', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']) index.add('f', parseIndicator(v)!);
  assert.equal(index.matchDomain('CDN.Evil.Example')?.[0]?.indicator.value, 'evil.example');
  assert.equal(index.matchDomain('evil.example.com'), undefined);
  assert.equal(index.matchDomain('notevil.example'), undefined);
  assert.equal(index.matchUrl('https://BAD.example/pay')?.length, 1);
  assert.equal(index.matchUrl('/pay'), undefined);
  assert.equal(index.matchUrl('http://bad.example/Pay'), undefined);
  assert.equal(index.matchHash('E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855')?.length, 1);
  assert.deepEqual(index.counts(), { ip: 0, cidr: 0, domain: 1, url: 1, hash: 1 });
});

test('feeds from a file and a URL tag events in ECS, refresh on demand, and keep their indicators when a read fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-intel-'));
  let body = '203.0.113.0/24\nevil.example\n';
  let status = 200;
  const seen: (string | undefined)[] = [];
  const { server, url } = await listen((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  const clock = new ManualClock(T0);
  const file = join(dir, 'ips.csv');
  writeFileSync(file, 'ip,score\n198.51.100.23,90\n2001:db8::bad,80\n');
  const config = threatIntelSchema.parse({
    feeds: [
      { name: 'local', path: file, format: 'csv', column: 'ip', header: true, severity: 'critical', description: 'Local blocklist' },
      { name: 'remote', url: `${url}/feed.txt`, refresh_minutes: 0, authorization_env: 'FEED_AUTH' },
    ],
  });
  const enrichment = new Enrichment({ geoip: geoipSchema.parse({}), threat_intel: config }, { clock, env: { FEED_AUTH: 'Bearer s3cret' } });
  try {
    await enrichment.start();
    assert.deepEqual(seen, ['Bearer s3cret']);
    assert.equal(enrichment.feedStatus()[1]!.source, `${url}/feed.txt`);
    const { displayUrl } = await import('./feeds.js');
    assert.equal(displayUrl('https://user:pw@intel.example/list.txt?key=abc'), 'https://intel.example/list.txt?…');
    const events = [
      event('e1', { source: { ip: '203.0.113.50' }, destination: { ip: '10.0.0.2' } }),
      event('e2', { source: { ip: '198.51.100.23' }, url: { domain: 'www.evil.example' } }),
      event('e3', { source: { ip: '2001:db8::bad' } }),
      event('e4', { source: { ip: '8.8.8.8' } }),
    ];
    clock.advance(5000);
    enrichment.stage.process(events);
    const [e1, e2, e3, e4] = events;
    assert.deepEqual(e1!.threat, {
      enrichments: [
        {
          indicator: { type: 'ipv4-addr', name: '203.0.113.0/24', provider: 'remote' },
          matched: { atomic: '203.0.113.50', field: 'source.ip', type: 'indicator_match_rule', index: 'remote', occurred: '2024-05-01T12:00:05.000Z' },
        },
      ],
      indicator: { type: 'ipv4-addr', name: '203.0.113.0/24', provider: 'remote' },
      feed: { name: 'remote' },
    });
    assert.equal(e1!.source?.geo?.name, 'documentation');
    assert.equal(e1!.destination?.geo?.name, 'private');
    const t2 = e2!.threat as { enrichments: { indicator: Record<string, unknown>; matched: { field: string } }[]; feed: { name: string[] } };
    assert.deepEqual(t2.feed.name, ['local', 'remote']);
    assert.deepEqual(t2.enrichments.map((x) => x.matched.field), ['source.ip', 'url.domain']);
    assert.deepEqual(t2.enrichments[0]!.indicator, { type: 'ipv4-addr', name: '198.51.100.23', provider: 'local', ip: '198.51.100.23', description: 'Local blocklist' });
    assert.deepEqual(t2.enrichments[1]!.indicator, { type: 'domain-name', name: 'evil.example', provider: 'remote', url: { domain: 'evil.example' } });
    assert.equal((e3!.threat as { indicator: { type: string } }).indicator.type, 'ipv6-addr');
    assert.equal(e4!.threat, undefined);
    assert.equal(e4!.source?.geo?.country_iso_code, 'US');

    // The detector reports what the stage matched, per feed, field and value, at the feed's severity.
    const detections = enrichment.detector!.process(events);
    assert.deepEqual(
      detections.map((d) => [d.source.id, d.source.kind, d.severity, d.entity?.field, d.entity?.value, d.evidence]),
      [
        ['threat-intel/remote', 'intel', 'high', 'source.ip', '203.0.113.50', ['e1']],
        ['threat-intel/local', 'intel', 'critical', 'source.ip', '198.51.100.23', ['e2']],
        ['threat-intel/remote', 'intel', 'high', 'url.domain', 'www.evil.example', ['e2']],
        ['threat-intel/local', 'intel', 'critical', 'source.ip', '2001:db8::bad', ['e3']],
      ],
    );
    assert.match(detections[0]!.reason, /source.ip 203.0.113.50 is listed by the remote feed as ipv4-addr \(203.0.113.0\/24\)/);
    // A sender's own `threat` fields raise nothing: only the stage's matches count.
    const forged = event('f1', { threat: e1!.threat });
    assert.deepEqual(enrichment.detector!.process([forged]), []);

    clock.advance(60_000);
    let feeds = enrichment.feedStatus();
    assert.deepEqual(feeds.map((f) => [f.name, f.indicators, f.kinds, f.age_seconds, f.last_error]), [
      ['local', 2, { ip: 2 }, 65, null],
      ['remote', 2, { cidr: 1, domain: 1 }, 65, null],
    ]);

    // A refresh replaces the indicators; a failed one keeps them and says why.
    body = '192.0.2.1\n';
    await enrichment.feeds.refresh(['remote']);
    assert.equal(enrichment.feeds.index.matchIp('203.0.113.50'), undefined);
    assert.equal(enrichment.feeds.index.matchIp('192.0.2.1')?.[0]?.feed, 'remote');
    status = 503;
    await enrichment.feeds.refresh(['remote']);
    feeds = enrichment.feedStatus();
    assert.equal(feeds[1]!.last_error, 'HTTP 503 Service Unavailable');
    assert.equal(feeds[1]!.failures, 1);
    assert.equal(enrichment.feeds.index.matchIp('192.0.2.1')?.[0]?.feed, 'remote');
    const health = enrichment.health().find((h) => h.name === 'threat_intel')!.status();
    assert.equal(health.ok, true);
    assert.equal(health.indicators, 3);

    const report = await enrichment.lookup('198.51.100.23');
    assert.equal(report.kind, 'ip');
    assert.deepEqual(report.feeds.map((f) => f.feed), ['local']);
    assert.deepEqual(report.geo, { geo: { name: 'documentation' } });
    assert.deepEqual(report.online, []);
    assert.equal(report.query, 'source.ip:"198.51.100.23" OR destination.ip:"198.51.100.23" OR client.ip:"198.51.100.23" OR server.ip:"198.51.100.23"');
    await assert.rejects(enrichment.lookup('what is this'), /is not an IP address, CIDR block, domain, URL or file hash/);
  } finally {
    await enrichment.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a feed that cannot be read at start is reported in health, and the stage never throws', async () => {
  const enrichment = new Enrichment(
    { geoip: geoipSchema.parse({ enabled: false }), threat_intel: threatIntelSchema.parse({ feeds: [{ name: 'gone', path: '/nonexistent/feed.txt' }] }) },
    { clock: new ManualClock(T0) },
  );
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    await enrichment.start();
  } finally {
    console.error = original;
  }
  assert.equal(errors.length, 1);
  const health = enrichment.health();
  assert.deepEqual(health.map((h) => h.name), ['threat_intel']);
  const status = health[0]!.status() as { ok: boolean; feeds: { last_error: string }[] };
  assert.equal(status.ok, false);
  assert.match(status.feeds[0]!.last_error, /ENOENT/);
  const odd = [null, 'x', { event: null }, { source: { ip: ['a'] } }] as unknown as EcsEvent[];
  enrichment.stage.process(odd);
  await enrichment.close();
});
