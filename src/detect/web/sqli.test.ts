import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainSqli, sqli, sqliFingerprint, sqliText } from './sqli.js';

describe('SQL tokenizer and folding', () => {
  it('gives libinjection fingerprints for typical shapes', () => {
    // Each pair: input (decoded), context, fingerprint. Folding turns `1,2,3` into `1`, `'1'='1'` into `sos`.
    const cases: Array<[string, '' | "'" | '"', string]> = [
      ['1 union select 1,2,3--', '', '1UE1c'],
      ["1' or '1'='1", "'", 's&sos'],
      ["1' and sleep(5)#", "'", 's&f(1'],
      ['1;drop table users', '', '1;Tnn'],
      ['-1 UNION ALL SELECT NULL,version()', '', '1UEv,'],
      ['hello world', '', 'nn'],
      ["O'Reilly", "'", 'sn'],
    ];
    for (const [text, context, fingerprint] of cases) assert.equal(sqliFingerprint(text, context), fingerprint, text);
  });

  it('reads MySQL conditional comments and nested comments as unparsable', () => {
    assert.equal(sqliFingerprint('1/*!50000union*/select 1'), 'X');
    assert.equal(sqliFingerprint('1 /* a /* b */ union select 1'), 'X');
    assert.equal(sqliText('1/*!50000union*/select 1'), 'X');
  });

  it('folds `1.e(` the way MySQL reads it', () => {
    // MySQL ignores `1.e`, so `1.e(1)` is `(1)` (the AWS WAF bypass libinjection fixed).
    assert.equal(sqliFingerprint("1' or 1.e(1) or '1'='1", "'"), sqliFingerprint("1' or (1) or '1'='1", "'"));
  });

  it('tries MySQL when `#` or `--x` make the dialects disagree', () => {
    assert.equal(sqliText('1 or 1=1#'), '1&1c');
  });
});

describe('sqli', () => {
  const attacks = [
    "' or '1'='1",
    "admin' or 1=1--",
    '1 union select 1,2,3--',
    "1' and sleep(5)#",
    '1;drop table users',
    "x' AND extractvalue(1,concat(0x7e,version()))--",
    '1/*!50000union*/select 1',
    // Breakouts beyond libinjection's five-token fingerprints (the first three are sqlmap payloads from
    // HttpParamsDataset, Morzeux, MIT licence).
    "1';select case when 6555=7349 then 1 else null end--",
    "1');iif(5257=5257,1,1/0)",
    "1' (select (case when (5451=5451) then 1 end))",
    "1\" waitfor delay '0:0:5' and \"a\"=\"a",
    "1' where 1628=1628;iif(9342=6508,1,1/0)",
  ];
  for (const attack of attacks) {
    it(`detects ${attack}`, () => assert.equal(sqli(attack), true));
  }

  // Some are from libinjection's list of false positives (BSD-3-Clause, see libinjection/LICENSE).
  const benign = ["John O'Reilly", 'select a size', '3 to 6 months', 'ALL NATURAL SKIN CARE', '1/26/11', 'rock & roll',
    'price: 10-20', 'user@example.com', 'C:\\Program Files', '50% off', 'Drop-down menu', 'union station',
    'order by price', 'Best (Select Edition)', '2 (select one)', "it's a 1' cable"];
  for (const text of benign) {
    it(`leaves ${JSON.stringify(text)}`, () => assert.equal(sqli(text), false));
  }

  it('reads quoted words, phrases, percentages and pasted URLs as text, and the injections they resemble as SQL', () => {
    // From libinjection's list of false positives: quoted operators in text, prose around quotes, percentages.
    for (const text of ['CHRISTMAS STOCKING "NOT" STUFFER', 'SMALL "&" SIGN', '"IS" STAMP', '"*"', '\'countdown calendar" and "disney:', '80% ACRYLIC AND 20% WOOL',
      '/SEARCH?SEARCH_SUBMIT=&Q=36"+X+48+"+FRAME&VIEW_TYPE=GALLERY', "MISTERGLAS.DK'*''''''''''''''''''''''''''''''''"]) {
      assert.equal(sqli(text), false, text);
    }
    // MySQL's implicit conversions close single-quoted literals around an operator; a breakout closes one value.
    for (const attack of ["A 'AND' B", "'AND'", 'a%27%2B%27b', 'admin" or "1', "1\" OR \"x", '1!=0--+"!="\'!=\'', '1 and 1<2', '<root><a probe="a\'or\'a"></a></root>']) assert.equal(sqli(attack), true, attack);
  });

  it('decodes URL encoding, repeated, and `+` as space', () => {
    assert.equal(sqli('1%27%20or%20%271%27%3D%271'), true);
    assert.equal(sqli('1%2527%2520or%2520%25271%2527%253D%25271'), true);
    assert.equal(sqli('1+union+select+1,2--'), true);
  });

  it('checks each parameter of a query string and says which', () => {
    const e = explainSqli('page=2&id=1%27%20or%20%271%27%3D%271&sort=asc');
    assert.equal(e.match, true);
    assert.equal(e.param, 'id');
    assert.equal(e.fingerprint, 's&sos');
    assert.equal(e.input, "1' or '1'='1");
  });

  it('looks at every parameter, however many come first', () => {
    assert.equal(explainSqli(`${'a=1&'.repeat(300)}id=1%27%20or%20%271%27%3D%271`).param, 'id');
  });

  it('does not read a query string whole as if one quote context spanned parameters', () => {
    // `d'onofrio` opens a quote that only a whole-string reading would close in the next parameter.
    assert.equal(sqli("surname=d'onofrio&zip=10115&name=o'neil"), false);
    assert.deepEqual(explainSqli('a=1&b=2'), { match: false });
  });
});
