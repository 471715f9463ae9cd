// Round trip: combined access log lines written from random values must give those values back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { parseAccessLine } from './access-log.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

// Quoted fields as Apache writes them: `"` and `\` escaped with a backslash.
const quoted = fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).filter((s) => s !== '-' && s.length > 0);
const apacheEscape = (s: string) => s.replace(/[\\"]/g, (c) => `\\${c}`);
const path = fc.stringMatching(/^\/[!#-~]{0,40}$/);
const method = fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PROPFIND', 'PATCH');

describe('combined log round trip', () => {
  it('gives back client, user, time, request, status, bytes, referrer and user agent', () => {
    fc.assert(fc.property(
      fc.oneof(fc.ipV4(), fc.ipV6()), fc.option(fc.stringMatching(/^[a-z][a-z0-9._-]{0,12}$/)),
      fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
      method, path, fc.constantFrom('1.0', '1.1', '2.0'), fc.integer({ min: 100, max: 599 }),
      fc.option(fc.integer({ min: 0, max: 2 ** 40 })), fc.option(quoted), fc.option(quoted),
      fc.option(fc.integer({ min: 0, max: 600_000 })), fc.constantFrom('nginx.access', 'apache.access'),
      (ip, user, date, m, p, version, status, bytes, referrer, agent, ms, dataset) => {
        const time = `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
        const seconds = ms === null ? '' : ` ${(ms / 1000).toFixed(3)}`;
        const line = `${ip} - ${user ?? '-'} [${time}] "${m} ${p} HTTP/${version}" ${status} ${bytes ?? '-'} "${referrer === null ? '-' : apacheEscape(referrer)}" "${agent === null ? '-' : apacheEscape(agent)}"${seconds}`;
        const f = parseAccessLine(line, dataset);
        assert.ok(f !== undefined, line);
        assert.equal(f.event.dataset, dataset);
        assert.equal(f['@timestamp'], new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString());
        assert.ok(f.source?.ip !== undefined);
        assert.equal(f.user?.name, user ?? undefined);
        assert.equal(f.http?.request?.method, m);
        assert.equal(f.url?.original, p);
        const q = p.indexOf('?');
        assert.equal(f.url?.path, q < 0 ? p : (q === 0 ? '/' : p.slice(0, q)));
        assert.equal(f.url?.query, q < 0 ? undefined : p.slice(q + 1));
        assert.equal(f.http?.version, version);
        assert.equal(f.http?.response?.status_code, status);
        assert.equal(f.event.outcome, status >= 400 ? 'failure' : 'success');
        assert.equal(f.http?.response?.body?.bytes, bytes ?? undefined);
        // Escapes are kept as logged (like url.original), so compare with the escaped text.
        assert.equal(f.http?.request?.referrer, referrer === null ? undefined : apacheEscape(referrer));
        assert.equal(f.user_agent?.original, agent === null ? undefined : apacheEscape(agent));
        assert.equal(f.event.duration, ms === null ? undefined : ms * 1_000_000);
      },
    ), { numRuns: runs(500) });
  });

  it('reads any prefix of a combined line without throwing, keeping the client address', () => {
    const line = '198.51.100.14 - bob [17/May/2015:10:05:03 +0000] "GET /a?b=c HTTP/1.1" 200 1234 "http://example.com/" "Mozilla/5.0 (X11)" 0.004 0.003';
    const start = line.indexOf('"GET');
    for (let end = start + 1; end <= line.length; end++) {
      const f = parseAccessLine(line.slice(0, end), 'nginx.access');
      assert.ok(f !== undefined, line.slice(0, end));
      assert.equal(f.source?.ip, '198.51.100.14');
      assert.equal(f.user?.name, 'bob');
    }
  });
});
