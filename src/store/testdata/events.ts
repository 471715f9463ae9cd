// Fixture events for the store contract: sshd and nginx lines as the parsers normalize them, a line no parser read,
// documents with fields outside the hot columns, and hostile values (quotes, LIKE wildcards, NUL bytes, backslashes).
import type { EcsEvent } from '../../core/event.js';

function sshd(id: string, ts: string, line: string, extra: Partial<EcsEvent> & { outcome: 'success' | 'failure' }): EcsEvent {
  const { outcome, ...rest } = extra;
  return {
    '@timestamp': ts,
    event: {
      id,
      dataset: 'sshd',
      module: 'system',
      kind: 'event',
      category: ['authentication'],
      type: ['start'],
      action: 'ssh_login',
      outcome,
      original: line,
    },
    host: { name: 'web-1' },
    process: { name: 'sshd', pid: 4242 },
    log: { level: 'info' },
    ...rest,
  };
}

function nginx(id: string, ts: string, ip: string, method: string, url: string, status: number, bytes: number, agent: string): EcsEvent {
  const line = `${ip} - - [01/May/2024:${ts.slice(11, 19)} +0000] "${method} ${url} HTTP/1.1" ${status} ${bytes} "-" "${agent}"`;
  return {
    '@timestamp': ts,
    event: { id, dataset: 'nginx.access', category: ['web'], type: ['access'], outcome: status < 400 ? 'success' : 'failure', original: line },
    host: { name: 'web-2' },
    source: { ip },
    url: { original: url, path: url.split('?')[0]! },
    http: { version: '1.1', request: { method }, response: { status_code: status, bytes } },
    user_agent: { original: agent },
    message: `${method} ${url} ${status}`,
  };
}

export const FIXTURE_EVENTS: EcsEvent[] = [
  sshd('e01', '2024-05-01T10:00:00Z', 'May  1 10:00:00 web-1 sshd[4242]: Failed password for root from 203.0.113.7 port 52113 ssh2', {
    outcome: 'failure',
    message: 'Failed password for root from 203.0.113.7 port 52113 ssh2',
    source: { ip: '203.0.113.7', port: 52113 },
    user: { name: 'root' },
  }),
  sshd('e02', '2024-05-01T10:00:05.250Z', 'May  1 10:00:05 web-1 sshd[4243]: Failed password for invalid user admin from 203.0.113.7 port 52114 ssh2', {
    outcome: 'failure',
    message: 'Failed password for invalid user admin from 203.0.113.7 port 52114 ssh2',
    source: { ip: '203.0.113.7', port: 52114 },
    user: { name: 'admin' },
  }),
  sshd('e03', '2024-05-01T10:01:00Z', 'May  1 10:01:00 web-1 sshd[4250]: Accepted publickey for deploy from 198.51.100.23 port 40022 ssh2: ED25519 SHA256:abc', {
    outcome: 'success',
    message: 'Accepted publickey for deploy from 198.51.100.23 port 40022 ssh2: ED25519 SHA256:abc',
    source: { ip: '198.51.100.23', port: 40022 },
    user: { name: 'deploy' },
  }),
  sshd('e04', '2024-05-01T10:02:00.000123Z', 'May  1 10:02:00 web-1 sshd[4260]: Failed password for root from 2001:db8::23 port 61000 ssh2', {
    outcome: 'failure',
    message: 'Failed password for root from 2001:db8::23 port 61000 ssh2',
    source: { ip: '2001:db8::23', port: 61000 },
    user: { name: 'root' },
  }),
  nginx('e05', '2024-05-01T10:03:00Z', '192.0.2.44', 'GET', '/admin', 404, 153, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'),
  nginx('e06', '2024-05-01T10:03:30Z', '192.0.2.44', 'POST', '/login', 200, 5120, 'curl/8.5.0'),
  nginx('e07', '2024-05-01T10:04:00Z', '10.20.30.40', 'GET', '/search?q=50%_off', 500, 0, 'Mozilla/5.0 (X11; Linux x86_64)'),
  {
    '@timestamp': '2024-05-01T10:05:00Z',
    event: { id: 'e08', dataset: 'syslog', kind: 'pipeline_error', original: '<13>garbage that no parser reads \\x00 ~~~' },
    tags: ['_parse_failure'],
    error: { message: 'no parser matched the line', type: 'parse' },
  },
  {
    '@timestamp': '2024-05-01T10:06:00Z',
    event: { id: 'e09', dataset: 'app.proxy', type: ['connection', 'end'], duration: 1500000 },
    message: 'upstream closed while reading C:\\Windows\\Temp\\x.dll',
    labels: { env: 'prod' },
    client: { ip: '10.9.8.7' },
    destination: { ip: '172.16.0.5', port: 443 },
    error: { message: 'Connection reset by peer' },
  },
  {
    '@timestamp': '2024-05-01T10:07:00Z',
    event: { id: 'e10', dataset: 'app.db' },
    message: 'user\u0000name had a NUL inside',
    host: { name: 'db-1' },
    log: { level: 'error' },
  },
  {
    '@timestamp': '2024-05-01T10:08:00Z',
    event: { id: 'e11', dataset: 'app.web', category: ['web'] },
    message: "search for '; DROP TABLE events; -- by o'brien",
    user: { name: "o'brien" },
  },
  {
    '@timestamp': '2024-04-01T00:00:00Z',
    event: { id: 'e12', dataset: 'syslog' },
    message: 'old log rotation finished',
    host: { name: 'old-1' },
  },
];

/** Ids of FIXTURE_EVENTS newest first, the order a search returns them. */
export const FIXTURE_IDS_NEWEST_FIRST = ['e11', 'e10', 'e09', 'e08', 'e07', 'e06', 'e05', 'e04', 'e03', 'e02', 'e01', 'e12'];

/** Many small varied events, one a second from `startMs`, for paging, histogram and retention tests. */
export function bulkEvents(count: number, startMs: number, prefix: string, sameSecond = 1): EcsEvent[] {
  const events: EcsEvent[] = [];
  for (let i = 0; i < count; i++) {
    const ts = new Date(startMs + Math.floor(i / sameSecond) * 1000).toISOString();
    const ip = `198.18.${(i * 7) % 256}.${(i * 13) % 256}`;
    events.push({
      '@timestamp': ts,
      event: {
        id: `${prefix}-${String(i).padStart(6, '0')}`,
        dataset: i % 3 === 0 ? 'sshd' : 'nginx.access',
        original: `${ip} - - "GET /item/${i} HTTP/1.1" ${i % 10 === 0 ? 404 : 200} ${(i * 37) % 9000} bulk line number ${i}`,
      },
      source: { ip, port: 1024 + (i % 60000) },
      http: { response: { status_code: i % 10 === 0 ? 404 : 200 } },
      message: `GET /item/${i}`,
    });
  }
  return events;
}
