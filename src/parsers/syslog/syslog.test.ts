// Round trips: syslog lines written from random header values must give those values back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { parseSyslog } from './syslog.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ctx = { now: Date.parse('2024-12-31T00:00:00Z'), year: 2023 };
const two = (n: number) => String(n).padStart(2, '0');

const host = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,2}$/);
const program = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.\/-]{0,20}$/).filter((p) => !p.startsWith('pam_'));
// Messages of printable text (not starting with a space); program parsers may read them, the frame must not change.
const message = fc.stringMatching(/^[!-~][ -~]{0,80}$/);

describe('RFC 3164 round trip', () => {
  it('gives back time, host, program, pid, priority and message', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), host, program,
      fc.option(fc.integer({ min: 0, max: 4_194_304 })), fc.option(fc.integer({ min: 0, max: 191 })), message,
      (month, day, hour, minute, second, h, prog, pid, pri, msg) => {
        const dayText = day < 10 ? ` ${day}` : String(day);
        const line = `${pri === null ? '' : `<${pri}>`}${MONTHS[month]} ${dayText} ${two(hour)}:${two(minute)}:${two(second)} ${h} ${prog}${pid === null ? '' : `[${pid}]`}: ${msg}`;
        const f = parseSyslog(line, ctx);
        assert.ok(f !== undefined, line);
        assert.equal(f['@timestamp'], new Date(Date.UTC(2023, month, day, hour, minute, second)).toISOString());
        assert.equal(f.host?.hostname, h);
        assert.equal(f.process?.name, prog);
        assert.equal(f.process?.pid, pid ?? undefined);
        assert.equal(f.message, msg);
        assert.equal(f.log?.syslog?.priority, pri ?? undefined);
        if (pri !== null) {
          assert.equal(f.log?.syslog?.facility?.code, pri >> 3);
          assert.equal(f.log?.syslog?.severity?.code, pri & 7);
        }
      },
    ), { numRuns: runs(500) });
  });
});

describe('RFC 5424 round trip', () => {
  const sdName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9@.]{0,15}$/).filter((n) => n !== '__proto__');
  const sdValue = fc.string({ maxLength: 20 });
  const escape = (v: string) => v.replace(/[\\"\]]/g, (c) => `\\${c}`);

  it('gives back header fields, structured data (escapes undone) and message', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 191 }), fc.option(host), fc.option(program), fc.option(fc.integer({ min: 0, max: 99999 })),
      fc.option(fc.stringMatching(/^[A-Z0-9]{1,8}$/)),
      fc.dictionary(sdName, fc.dictionary(sdName, sdValue, { maxKeys: 3 }), { maxKeys: 3 }),
      fc.boolean(), message,
      (pri, h, prog, procid, msgid, sd, bom, msg) => {
        const sdText = Object.keys(sd).length === 0 ? '-' : Object.entries(sd)
          .map(([id, params]) => `[${id}${Object.entries(params).map(([k, v]) => ` ${k}="${escape(v)}"`).join('')}]`).join('');
        const line = `<${pri}>1 2023-10-11T22:14:15.003Z ${h ?? '-'} ${prog ?? '-'} ${procid ?? '-'} ${msgid ?? '-'} ${sdText} ${bom ? '\ufeff' : ''}${msg}`;
        const f = parseSyslog(line, ctx);
        assert.ok(f !== undefined, line);
        assert.equal(f['@timestamp'], '2023-10-11T22:14:15.003Z');
        assert.equal(f.host?.name, h ?? undefined);
        assert.equal(f.process?.name, prog ?? undefined);
        assert.equal(f.process?.pid, procid ?? undefined);
        assert.equal(f.log?.syslog?.msgid, msgid ?? undefined);
        assert.equal(f.log?.syslog?.version, '1');
        // fc.dictionary makes null-prototype objects; compare as plain JSON.
        assert.deepEqual(f.log?.syslog?.structured_data, Object.keys(sd).length === 0 ? undefined : JSON.parse(JSON.stringify(sd)));
        assert.equal(f.message, msg);
      },
    ), { numRuns: runs(500) });
  });
});
