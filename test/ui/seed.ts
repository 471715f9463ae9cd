// Realistic data for the dashboard's tests and screenshots, sent through Vigil's real inputs (the HTTP API): an SSH
// brute force from several countries, web traffic and scans, sudo use; and a detector that turns failures into alerts.
import type { Detection, Detector } from '../../src/core/detection.js';
import type { EcsEvent } from '../../src/core/event.js';
import type { TestVigil } from '../../src/testing/runtime.js';

/** Attack origins with the geolocation GeoIP enrichment would add (documentation address ranges, RFC 5737). */
export const ORIGINS = [
  { ip: '203.0.113.7', country: 'CN', lat: 39.9, lon: 116.4, weight: 9 },
  { ip: '203.0.113.66', country: 'RU', lat: 55.75, lon: 37.62, weight: 7 },
  { ip: '198.51.100.23', country: 'BR', lat: -23.55, lon: -46.63, weight: 4 },
  { ip: '198.51.100.140', country: 'US', lat: 39.04, lon: -77.49, weight: 5 },
  { ip: '192.0.2.55', country: 'NL', lat: 52.37, lon: 4.9, weight: 3 },
  { ip: '192.0.2.201', country: 'VN', lat: 21.03, lon: 105.85, weight: 3 },
  { ip: '203.0.113.190', country: 'IN', lat: 19.08, lon: 72.88, weight: 2 },
] as const;

const HOSTS = ['web-1', 'web-2', 'bastion', 'db-1'];
const USERS = ['root', 'admin', 'ubuntu', 'oracle', 'postgres', 'test', 'git', 'deploy'];
const PATHS = ['/', '/login', '/api/v1/orders', '/static/app.js', '/wp-login.php', '/.env', '/admin/config.php', '/cart', '/search?q=shoes'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'curl/8.5.0',
  'Mozilla/5.0 zgrab/0.x',
  'sqlmap/1.8#stable (https://sqlmap.org)',
];

/** A small deterministic generator, so screenshots look the same from run to run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function geo(o: (typeof ORIGINS)[number]) {
  return { ip: o.ip, port: 40000 + (o.weight * 137) % 20000, geo: { country_iso_code: o.country, location: { lat: o.lat, lon: o.lon } } };
}

/** ECS events spread over the last `minutes` minutes before `now`. */
export function seedEvents(count: number, now = Date.now(), minutes = 120, seed = 7): Record<string, unknown>[] {
  const r = rng(seed);
  const weighted = ORIGINS.flatMap((o) => new Array<(typeof ORIGINS)[number]>(o.weight).fill(o));
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    // More traffic lately, as during an attack that is under way.
    const age = Math.pow(r(), 1.6) * minutes * 60_000;
    const at = new Date(now - age).toISOString();
    const kind = r();
    const host = pick(r, HOSTS);
    if (kind < 0.45) {
      const o = pick(r, weighted);
      const user = pick(r, USERS);
      events.push({
        '@timestamp': at,
        event: { dataset: 'sshd', category: ['authentication'], action: 'ssh_login', outcome: 'failure' },
        host: { name: host === 'db-1' ? 'bastion' : host },
        source: geo(o),
        user: { name: user },
        process: { name: 'sshd', pid: 1000 + Math.floor(r() * 9000) },
        message: `Failed password for ${user === 'oracle' || user === 'test' ? 'invalid user ' : ''}${user} from ${o.ip} port ${40000 + Math.floor(r() * 20000)} ssh2`,
      });
    } else if (kind < 0.55) {
      const user = pick(r, ['alice', 'bob', 'deploy']);
      events.push({
        '@timestamp': at,
        event: { dataset: 'sshd', category: ['authentication'], action: 'ssh_login', outcome: 'success' },
        host: { name: 'bastion' },
        source: { ip: `10.0.${Math.floor(r() * 4)}.${10 + Math.floor(r() * 40)}` },
        user: { name: user },
        message: `Accepted publickey for ${user} from 10.0.1.${Math.floor(r() * 200)} port 52${Math.floor(r() * 900)} ssh2`,
      });
    } else if (kind < 0.92) {
      const scanner = r() < 0.35;
      const o = scanner ? pick(r, weighted) : undefined;
      const path = scanner ? pick(r, PATHS.slice(4)) : pick(r, PATHS.slice(0, 5));
      const status = scanner ? pick(r, [404, 404, 403, 200]) : pick(r, [200, 200, 200, 304, 302, 500]);
      events.push({
        '@timestamp': at,
        event: { dataset: 'nginx.access', category: ['web'], action: 'access', outcome: status >= 400 ? 'failure' : 'success' },
        host: { name: host === 'bastion' || host === 'db-1' ? 'web-1' : host },
        source: o ? geo(o) : { ip: `172.16.${Math.floor(r() * 8)}.${Math.floor(r() * 250)}` },
        http: { request: { method: pick(r, ['GET', 'GET', 'POST']) }, response: { status_code: status, bytes: Math.floor(r() * 40000) } },
        url: { original: path, path: path.split('?')[0] },
        user_agent: { original: scanner ? pick(r, AGENTS.slice(2)) : pick(r, AGENTS.slice(0, 2)) },
        message: `"GET ${path} HTTP/1.1" ${status}`,
      });
    } else {
      events.push({
        '@timestamp': at,
        event: { dataset: 'sudo', category: ['process'], action: 'sudo', outcome: 'success' },
        host: { name: pick(r, HOSTS) },
        user: { name: pick(r, ['alice', 'deploy']), target: { name: 'root' } },
        process: { command_line: pick(r, ['/usr/bin/systemctl restart nginx', '/usr/bin/apt-get upgrade', '/bin/journalctl -u vigil']) },
        message: 'COMMAND=/usr/bin/systemctl restart nginx',
      });
    }
  }
  return events.sort((a, b) => String(a['@timestamp']).localeCompare(String(b['@timestamp'])));
}

/** Sends events through the real HTTP input as NDJSON; answers the stored ids. */
export async function postEvents(vigil: TestVigil, events: readonly Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < events.length; i += 2000) {
    const res = await vigil.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: events.slice(i, i + 2000).map((e) => JSON.stringify(e)).join('\n') });
    if (res.status !== 200) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
    ids.push(...((await res.json()) as { ids: string[] }).ids);
  }
  return ids;
}

/**
 * A detector for the tests, running on the stream like the real ones: SSH password guessing (failed logins from one
 * address in a batch), web scanning (requests for admin/secret paths) and root logins tried, with MITRE tags.
 */
export const testDetector: Detector = {
  name: 'ui-test-detector',
  process(events: readonly EcsEvent[]): Detection[] {
    const out: Detection[] = [];
    const failures = new Map<string, EcsEvent[]>();
    for (const e of events) {
      const ip = e.source?.ip;
      if (e.event.dataset === 'sshd' && e.event.outcome === 'failure' && ip) failures.set(ip, [...(failures.get(ip) ?? []), e]);
      const path = (e as { url?: { path?: string } }).url?.path;
      if (e.event.dataset === 'nginx.access' && ip && path && /\.env|wp-login|admin\/config/.test(path)) {
        out.push({
          source: { kind: 'sigma', id: 'web-sensitive-path-probe', title: 'Probe for sensitive web paths', author: 'Vigil tests' },
          severity: 'medium',
          timestamp: e['@timestamp'],
          entity: { field: 'source.ip', value: ip },
          evidence: [e.event.id],
          reason: `${ip} asked for ${path}`,
          tags: ['attack.reconnaissance', 'attack.t1595'],
        });
      }
    }
    // A stand-in for the anomaly model: scores web requests (scanners' paths and agents score high) as a model
    // would, recording most without alerting and alerting above 0.9.
    for (const e of events) {
      if (e.event.dataset !== 'nginx.access' || !e.source?.ip) continue;
      let h = 0;
      for (const c of e.event.id) h = (h * 33 + c.charCodeAt(0)) >>> 0;
      if (h % 8 !== 0) continue;
      const odd = /\.env|wp-login|admin|zgrab|sqlmap|curl/.test(`${(e as { url?: { path?: string } }).url?.path} ${(e as { user_agent?: { original?: string } }).user_agent?.original}`);
      const score = Math.min(0.99, (odd ? 0.62 : 0.18) + ((h >>> 8) % 1000) / 3000);
      out.push({
        source: { kind: 'model', id: 'web-requests-iforest', title: 'Unusual web request' },
        severity: score > 0.9 ? 'high' : 'low',
        timestamp: e['@timestamp'],
        entity: { field: 'source.ip', value: e.source.ip },
        evidence: [e.event.id],
        reason: `isolation forest score ${score.toFixed(2)}`,
        score,
        alert: score > 0.9,
      });
    }
    for (const [ip, list] of failures) {
      const users = new Set(list.map((e) => e.user?.name));
      out.push({
        source: { kind: 'sigma', id: 'ssh-password-guessing', title: 'SSH password guessing', author: 'Vigil tests' },
        severity: users.has('root') ? 'high' : list.length >= 3 ? 'medium' : 'low',
        timestamp: list[list.length - 1]!['@timestamp'],
        entity: { field: 'source.ip', value: ip },
        evidence: list.map((e) => e.event.id),
        reason: `${list.length} failed SSH logins from ${ip} for ${[...users].slice(0, 4).join(', ')}`,
        tags: ['attack.credential_access', 'attack.t1110'],
      });
    }
    return out;
  },
};
