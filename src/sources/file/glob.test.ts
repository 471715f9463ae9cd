// The file-name wildcard matcher: agrees with shell semantics and stays polynomial on adversarial names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runs } from '../../testing/fuzz.js';
import { compilePathPattern, wildcardMatch } from './glob.js';

const match = (pattern: string, name: string): boolean => wildcardMatch(Array.from(pattern), Array.from(name));

describe('wildcard file names', () => {
  it('matches like a shell pattern', () => {
    assert.equal(match('access.log*', 'access.log'), true);
    assert.equal(match('access.log*', 'access.log.1'), true);
    assert.equal(match('access.log*', 'error.log'), false);
    assert.equal(match('app-?.log', 'app-1.log'), true);
    assert.equal(match('app-?.log', 'app-10.log'), false);
    assert.equal(match('*', ''), true);
    assert.equal(match('?', ''), false);
    assert.equal(match('a*b*c', 'a-x-b-y-c'), true);
    assert.equal(match('a*b*c', 'a-x-c-y-b'), false);
    assert.equal(match('\u00e9v\u00e9nements-?.log', '\u00e9v\u00e9nements-\u{1F600}.log'), true);
  });

  it('agrees with a regular-expression reference on small inputs', () => {
    // The reference regex is built here, in the test, over short strings only.
    const toRegex = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'su');
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*?.]{0,8}$/), fc.stringMatching(/^[ab.]{0,10}$/), (pattern, name) => {
        assert.equal(match(pattern, name), toRegex(pattern).test(name));
      }),
      { numRuns: runs(2000) },
    );
  });

  it('stays polynomial on adversarial names (a backtracking matcher would not finish)', () => {
    const name = 'a'.repeat(100_000);
    assert.equal(match('*a*a*a*a*a*a*a*a*b', name), false);
    assert.equal(match('*a*a*a*a*a*a*a*a*a', name), true);
    assert.equal(match('?'.repeat(50) + '*b', name), false);
  });

  it('compiles a path: wildcards only in the last component, compressed rotations and hidden files left out', () => {
    assert.equal(compilePathPattern('/var/log/*/access.log'), undefined);
    assert.deepEqual(compilePathPattern('/var/log/auth.log'), { dir: '/var/log', matches: undefined });
    const nginx = compilePathPattern('/var/log/nginx/access.log*')!;
    assert.equal(nginx.dir, '/var/log/nginx');
    assert.deepEqual(
      ['access.log', 'access.log.1', 'access.log.2.gz', 'access.log.3.zst', '.access.log.swp', 'error.log'].filter(nginx.matches!),
      ['access.log', 'access.log.1'],
    );
    assert.equal(compilePathPattern('/backup/*.gz')!.matches!('old.log.gz'), true);
  });
});
