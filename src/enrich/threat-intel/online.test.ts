// Online lookups against a local HTTP server that answers as AbuseIPDB v2, VirusTotal v3 and OTX v1 document:
// the right paths and key headers, their answers summarised, a cache, our rate limit and theirs, and no key leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { threatIntelSchema } from '../../config/enrich.js';
import { ManualClock } from '../../core/clock.js';
import { OnlineLookups } from './online.js';

test('AbuseIPDB, VirusTotal and OTX answers, cached, rate limited', async () => {
  const requests: { path: string; headers: IncomingMessage['headers'] }[] = [];
  let abuseStatus = 200;
  const server = createServer((req, res) => {
    requests.push({ path: req.url!, headers: req.headers });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/abuse/check') {
      if (abuseStatus === 429) return json(429, { errors: [{ detail: 'Daily rate limit of 1000 requests exceeded for this endpoint.', status: 429 }] }, { 'retry-after': '3600' });
      return json(200, { data: { ipAddress: url.searchParams.get('ipAddress'), isPublic: true, ipVersion: 4, isWhitelisted: false, abuseConfidenceScore: 100, countryCode: 'CN', usageType: 'Data Center/Web Hosting/Transit', isp: 'Example ISP', domain: 'example.cn', hostnames: [], isTor: false, totalReports: 1204, numDistinctUsers: 321, lastReportedAt: '2024-04-30T12:00:00+00:00' } });
    }
    if (url.pathname === '/vt/ip_addresses/203.0.113.7') {
      return json(200, { data: { id: '203.0.113.7', type: 'ip_address', attributes: { as_owner: 'EXAMPLE-AS', asn: 64500, country: 'CN', reputation: -11, last_analysis_stats: { harmless: 60, malicious: 9, suspicious: 1, undetected: 20, timeout: 0 } } } });
    }
    if (url.pathname.startsWith('/vt/')) return json(404, { error: { code: 'NotFoundError', message: 'Resource not found' } });
    if (url.pathname === '/otx/indicators/IPv4/203.0.113.7/general') {
      return json(200, { indicator: '203.0.113.7', type: 'IPv4', reputation: 0, country_name: 'China', asn: 'AS64500 example', pulse_info: { count: 2, pulses: [{ id: 'p1', name: 'SSH brute force sources', tags: ['ssh'] }, { id: 'p2', name: 'Scanners', tags: [] }] } });
    }
    if (url.pathname === '/otx/indicators/domain/evil.example/general') return json(200, { indicator: 'evil.example', type: 'domain', pulse_info: { count: 0, pulses: [] } });
    return json(500, { error: 'unexpected' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clock = new ManualClock(Date.parse('2024-05-01T00:00:00Z'));
  const config = threatIntelSchema.parse({
    online: {
      abuseipdb: { api_key_env: 'ABUSE_KEY', base_url: `${base}/abuse`, rate_limit_per_minute: 1 },
      virustotal: { api_key: 'vt-key-1234', base_url: `${base}/vt/` },
      otx: { api_key_file: undefined, api_key: 'otx-key-5678', base_url: `${base}/otx` },
      cache_minutes: 10,
    },
  }).online;
  const online = new OnlineLookups(config, clock, { ABUSE_KEY: 'abuse-key-9999' });
  try {
    assert.deepEqual(online.configured, ['abuseipdb', 'virustotal', 'otx']);
    const [abuse, vt, otx] = await online.lookup('ip', '203.0.113.7');
    assert.equal(abuse!.status, 'found');
    assert.equal(abuse!.score, 100);
    assert.equal(abuse!.summary, 'abuse confidence 100%, 1,204 reports from 321 users');
    assert.equal(abuse!.data!.isp, 'Example ISP');
    assert.equal(vt!.status, 'found');
    assert.equal(vt!.score, 10);
    assert.equal(vt!.summary, '9 of 90 engines flag it malicious, 1 suspicious');
    assert.equal(otx!.summary, 'in 2 OTX pulses, e.g. "SSH brute force sources"');
    const byPath = Object.fromEntries(requests.map((r) => [r.path, r.headers]));
    assert.equal(byPath['/abuse/check?ipAddress=203.0.113.7&maxAgeInDays=90&verbose']!.key, 'abuse-key-9999');
    assert.equal(byPath['/vt/ip_addresses/203.0.113.7']!['x-apikey'], 'vt-key-1234');
    assert.equal(byPath['/otx/indicators/IPv4/203.0.113.7/general']!['x-otx-api-key'], 'otx-key-5678');

    // From the cache: no new request, marked cached.
    const count = requests.length;
    const again = await online.lookup('ip', '203.0.113.7');
    assert.equal(requests.length, count);
    assert.deepEqual(again.map((a) => a.cached), [true, true, true]);

    // Our own limit: AbuseIPDB allows one a minute here.
    const limited = await online.lookup('ip', '198.51.100.1');
    assert.equal(limited[0]!.status, 'rate_limited');
    assert.equal(limited[0]!.retry_after_s, 60);
    // Theirs: a 429 with Retry-After.
    clock.advance(60_000);
    abuseStatus = 429;
    const theirs = await online.lookup('ip', '198.51.100.2');
    assert.deepEqual([theirs[0]!.status, theirs[0]!.retry_after_s], ['rate_limited', 3600]);
    assert.equal(theirs[1]!.status, 'not_found');
    assert.equal(theirs[2]!.status, 'error');

    // Kinds a service does not know are not sent; VirusTotal URL ids are unpadded base64url.
    const domain = await online.lookup('domain', 'evil.example');
    assert.deepEqual(domain.map((a) => a.status), ['unsupported', 'not_found', 'not_found']);
    await online.lookup('url', 'evil.example/pay');
    assert.ok(requests.some((r) => r.path === `/vt/urls/${Buffer.from('http://evil.example/pay').toString('base64url')}`));

    // After the cache time the service is asked again.
    clock.advance(11 * 60_000);
    abuseStatus = 200;
    const fresh = await online.lookup('ip', '203.0.113.7');
    assert.deepEqual(fresh.map((a) => a.cached), [false, false, false]);
  } finally {
    server.close();
  }
});

test('errors never show the API key, and an unreachable service is an error answer', async () => {
  const config = threatIntelSchema.parse({ online: { virustotal: { api_key: 'secret-key-abcdef', base_url: 'http://127.0.0.1:1/secret-key-abcdef', timeout_ms: 2000 } } }).online;
  const online = new OnlineLookups(config, new ManualClock(0), {});
  const [vt] = await online.lookup('ip', '203.0.113.7');
  assert.equal(vt!.status, 'error');
  assert.doesNotMatch(JSON.stringify(vt), /secret-key-abcdef/);
  assert.throws(() => new OnlineLookups(threatIntelSchema.parse({ online: { otx: { api_key_env: 'NOPE' } } }).online, new ManualClock(0), {}), /threat_intel.online.otx.api_key_env names NOPE, which is not set/);
});
