// Address classification: IPv4/IPv6 (as node:net sees them), IPv4-mapped IPv6, host names, ECS endpoints.
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { endpoint, isHostName, isIPv4, normalizeIp } from './address.js';

describe('isIPv4', () => {
  it('accepts dotted quads and refuses the rest, as node:net does', () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => assert.ok(isIPv4(ip))));
    for (const s of ['192.030.0.6', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '', '1.2.3.4 ', 'a.b.c.d']) {
      assert.equal(isIPv4(s), false, s);
    }
  });

  it('agrees with node:net on arbitrary short strings', () => {
    fc.assert(fc.property(fc.stringMatching(/^[0-9.]{0,16}$/), (s) => assert.equal(isIPv4(s), isIP(s) === 4)));
  });
});

describe('normalizeIp', () => {
  it('keeps IPv4 and IPv6, unwraps IPv4-mapped IPv6 and brackets', () => {
    assert.equal(normalizeIp('203.0.113.5'), '203.0.113.5');
    assert.equal(normalizeIp('2001:db8::1'), '2001:db8::1');
    assert.equal(normalizeIp('::ffff:203.0.113.5'), '203.0.113.5');
    assert.equal(normalizeIp('::FFFF:203.0.113.5'), '203.0.113.5');
    assert.equal(normalizeIp('[2001:db8::1]'), '2001:db8::1');
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1%eth0');
    assert.equal(normalizeIp('example.com'), undefined);
    assert.equal(normalizeIp(':'.repeat(100)), undefined);
  });

  it('accepts every IPv6 address fast-check makes', () => {
    fc.assert(fc.property(fc.ipV6(), (ip) => assert.notEqual(normalizeIp(ip), undefined)));
  });
});

describe('isHostName / endpoint', () => {
  it('tells host names from addresses and junk', () => {
    assert.ok(isHostName('ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn'));
    assert.ok(isHostName('localhost'));
    assert.ok(isHostName('example.com.'));
    assert.equal(isHostName('192.030.0.6'), false);
    assert.equal(isHostName('a..b'), false);
    assert.equal(isHostName('-a.b'), false);
    assert.equal(isHostName('a b'), false);
  });

  it('builds ECS endpoint fields', () => {
    assert.deepEqual(endpoint('203.0.113.5', '22'), { address: '203.0.113.5', ip: '203.0.113.5', port: 22 });
    assert.deepEqual(endpoint('mail.example.org.'), { address: 'mail.example.org.', domain: 'mail.example.org' });
    assert.deepEqual(endpoint('192.030.0.6'), { address: '192.030.0.6' });
    assert.deepEqual(endpoint('203.0.113.5', '70000'), { address: '203.0.113.5', ip: '203.0.113.5' });
    assert.equal(endpoint('-'), undefined);
    assert.equal(endpoint(''), undefined);
  });
});
