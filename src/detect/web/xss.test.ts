import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HtmlTokenizer } from './html5.js';
import { explainXss, xss, xssReason } from './xss.js';

describe('HTML tokenizer', () => {
  const tokens = (text: string, context?: 'data' | 'value-double') => {
    const t = new HtmlTokenizer(text, context);
    const out: string[] = [];
    for (let tok = t.next(); tok !== undefined; tok = t.next()) out.push(`${tok.type}:${text.slice(tok.start, tok.end)}`);
    return out;
  };

  it('splits text, tags, attributes and values as a browser does', () => {
    assert.deepEqual(tokens('hi <img src="x" onerror=alert(1)>!'), [
      'text:hi ', 'tag-open:img', 'attr-name:src', 'attr-value:x', 'attr-name:onerror', 'attr-value:alert(1)', 'tag-end:>',
      'text:!',
    ]);
    assert.deepEqual(tokens('<!-- c --><!DOCTYPE html></b>'), ['comment: c ', 'doctype:DOCTYPE html', 'tag-close:b']);
  });

  it('starts inside an attribute value when told to', () => {
    assert.deepEqual(tokens('x" onmouseover="y', 'value-double'), ['attr-value:x', 'attr-name:onmouseover', 'attr-value:y']);
  });
});

describe('xss', () => {
  const attacks: Array<[string, RegExp]> = [
    ['<script>alert(1)</script>', /tag <script>/],
    ['<img src=x onerror=alert(1)>', /attribute onerror/],
    ['"><svg onload=alert(1)>', /svg|onload/],
    ['" autofocus onfocus="alert(1)', /attribute onfocus/],
    ['<a href="jav&#x09;ascript:alert(1)">x</a>', /script URL/],
    ['<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">', /script URL/],
    ['<div style="width: expression(alert(1))">', /style/],
    ['javascript:alert(document.domain)', /script URL/],
    ['data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', /script URL/],
    ['";alert(1)//', /script call/],
    ["'-prompt(document.cookie)-'", /script call/],
    ['top["al"+"ert"](1)', /script call/],
    ['<scr<script>ipt>alert(1)</scr<script>ipt>', /script/],
    ['<v:vmlframe src="foo.com/sup.fml"/>', /vmlframe/],
    ['<x onend=', /attribute onend/],
    ['(![]+[])[+!+[]]', /JSFuck/],
  ];
  for (const [attack, reason] of attacks) {
    it(`detects ${attack}`, () => {
      const r = xssReason(attack);
      assert.ok(r !== undefined && reason.test(r), `${attack} gave ${r}`);
    });
  }

  it('undoes the encodings browsers and servers undo', () => {
    assert.equal(xss('%3Cscript%3Ealert(1)%3C%2Fscript%3E'), true);
    assert.equal(xss('%253Cscript%253E'), true);
    assert.equal(xss('%EF%BC%9Cscript%EF%BC%9Ealert(1)'), true); // full-width < and >
    assert.equal(xss('+ADw-script+AD4-alert(1)+ADw-/script+AD4-'), true); // UTF-7
    assert.equal(xss('\\u003cscript\\u003ealert(1)'), true);
  });

  const benign = ['Price alert (daily)', 'alert me when in stock', 'Tom & Jerry', '1 < 2 and 3 > 2', 'I <3 you',
    'the onion router', 'C++ templates <T>', 'email me at a@b.c', 'javascript tutorial for beginners',
    'Java script: the good parts', 'how to read document.cookie in js', 'window.location is used to redirect',
    'see ![](image.png) here', 'online=yes'];
  for (const text of benign) {
    it(`leaves ${JSON.stringify(text)}`, () => assert.equal(xss(text), false, xssReason(text)));
  }

  it('reads a whole query string as page text only, and each parameter in every context', () => {
    // `d'onofrio&zip=…` would be an `onofrio…` attribute inside a single-quoted value.
    assert.equal(xss("surname=d'onofrio&zip=10115"), false);
    const e = explainXss('q=shoes&next=%22%20onmouseover%3D%22alert(1)');
    assert.equal(e.match, true);
    assert.equal(e.param, 'next');
  });
});
