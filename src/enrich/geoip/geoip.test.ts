// GeoIP through the real `maxmind` reader: the bundled country database, city and ASN databases written for the
// test, ASN CSV ranges, special-purpose ranges, and the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geoipSchema } from '../../config/enrich.js';
import type { EcsEvent } from '../../core/event.js';
import { writeMmdb } from '../../testing/mmdb-writer.js';
import { GeoIp } from './geoip.js';
import { specialRange } from './special.js';

const config = (extra: Record<string, unknown> = {}) => geoipSchema.parse(extra);

test('the bundled country database places public addresses, IPv4 and IPv6', () => {
  const geo = new GeoIp(config());
  // Google's public resolvers are registered in the US in every registry this database merges.
  assert.deepEqual(geo.lookup('8.8.8.8'), { geo: { country_iso_code: 'US', country_name: 'United States' } });
  assert.equal(geo.lookup('2001:4860:4860::8888')?.geo?.country_iso_code, 'US');
  assert.equal(geo.lookup('not an ip'), null);
  assert.equal(geo.lookup('999.1.1.1'), null);
  const stats = geo.stats();
  assert.equal(stats.databases[0]!.role, 'country');
  assert.match(stats.databases[0]!.type, /country/);
});

test('private and reserved ranges are marked in geo.name, never placed in a country', () => {
  const geo = new GeoIp(config());
  const cases: [string, string][] = [
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.10.10', 'link-local'],
    ['203.0.113.7', 'documentation'],
    ['198.51.100.1', 'documentation'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['fd00::1', 'private'],
    ['fe80::1', 'link-local'],
    ['2001:db8::1', 'documentation'],
    ['::ffff:10.0.0.1', 'private'],
  ];
  for (const [ip, kind] of cases) assert.deepEqual(geo.lookup(ip), { geo: { name: kind } }, ip);
  assert.equal(specialRange('172.32.0.1'), undefined);
  assert.equal(specialRange('11.0.0.1'), undefined);
});

test('a city and an ASN database add city, location, region, continent and the AS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-geoip-'));
  try {
    const city = join(dir, 'city.mmdb');
    const asn = join(dir, 'asn.mmdb');
    writeFileSync(
      city,
      writeMmdb('GeoLite2-City', {
        '81.2.69.0/24': {
          city: { geoname_id: 2643743, names: { en: 'London' } },
          continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe' } },
          country: { geoname_id: 2635167, iso_code: 'GB', names: { en: 'United Kingdom' } },
          location: { accuracy_radius: 10, latitude: { double: 51.5142 }, longitude: { double: -0.0931 }, time_zone: 'Europe/London' },
          subdivisions: [{ geoname_id: 6269131, iso_code: 'ENG', names: { en: 'England' } }],
          postal: { code: 'EC2V' },
        },
        '2a02:cf40::/29': { country: { geoname_id: 3017382, iso_code: 'FR', names: { en: 'France' } } },
      }),
    );
    writeFileSync(asn, writeMmdb('GeoLite2-ASN', { '81.2.69.0/24': { autonomous_system_number: 20712, autonomous_system_organization: 'Andrews & Arnold Ltd' } }));
    const geo = new GeoIp(config({ city_database: city, asn_database: asn }));
    assert.deepEqual(geo.lookup('81.2.69.160'), {
      geo: {
        country_iso_code: 'GB',
        country_name: 'United Kingdom',
        continent_code: 'EU',
        continent_name: 'Europe',
        region_name: 'England',
        region_iso_code: 'GB-ENG',
        city_name: 'London',
        postal_code: 'EC2V',
        timezone: 'Europe/London',
        location: { lat: 51.5142, lon: -0.0931 },
      },
      as: { number: 20712, organization: { name: 'Andrews & Arnold Ltd' } },
    });
    assert.equal(geo.lookup('2a02:cf40::1')?.geo?.country_name, 'France');
    // Outside the city database: nothing (the city database replaces the country one unless both are configured).
    assert.deepEqual(geo.lookup('8.8.8.8'), {});
    // With both, the country database answers where the city one does not.
    const both = new GeoIp(config({ city_database: city, country_database: (await import('./geoip.js')).bundledCountryDatabase() }));
    assert.equal(both.lookup('8.8.8.8')?.geo?.country_iso_code, 'US');
    assert.equal(both.lookup('81.2.69.160')?.geo?.city_name, 'London');
    assert.throws(() => new GeoIp(config({ country_database: join(dir, 'missing.mmdb') })), /geoip.country_database: cannot read .*missing.mmdb/);
    writeFileSync(join(dir, 'junk.mmdb'), 'not a database');
    assert.throws(() => new GeoIp(config({ city_database: join(dir, 'junk.mmdb') })), /is not a MaxMind DB file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ASN ranges from CSV, addresses as text or numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-geoip-'));
  try {
    const v4 = join(dir, 'asn-ipv4-num.csv');
    const v6 = join(dir, 'asn-ipv6.csv');
    writeFileSync(v4, '16777216,16777471,13335,"Cloudflare, Inc."\n134744064,134744319,15169,Google LLC\nbad line\n');
    writeFileSync(v6, '2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n');
    const geo = new GeoIp(config({ asn_csv: [v4, v6] }));
    assert.deepEqual(geo.lookup('1.0.0.1')?.as, { number: 13335, organization: { name: 'Cloudflare, Inc.' } });
    assert.deepEqual(geo.lookup('8.8.8.8'), { geo: { country_iso_code: 'US', country_name: 'United States' }, as: { number: 15169, organization: { name: 'Google LLC' } } });
    assert.equal(geo.lookup('2001:4860:4860::8888')?.as?.number, 15169);
    assert.equal(geo.lookup('1.0.1.1')?.as, undefined);
    writeFileSync(v4, 'nothing here\n');
    assert.throws(() => new GeoIp(config({ asn_csv: [v4] })), /holds no start,end,asn,organization lines/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('enrich fills each endpoint once, keeps what the sender gave, and caches', () => {
  const geo = new GeoIp(config({ cache_size: 4 }));
  const event = (ip: string): EcsEvent => ({ '@timestamp': '2024-05-01T00:00:00Z', event: { id: ip, dataset: 't' }, source: { ip }, destination: { ip: '10.0.0.5', geo: { city_name: 'Own' } } });
  const a = event('8.8.8.8');
  const b = event('8.8.8.8');
  geo.enrich(a);
  geo.enrich(b);
  assert.equal(a.source?.geo?.country_iso_code, 'US');
  assert.deepEqual(a.destination?.geo, { city_name: 'Own' });
  // Each event has its own copy.
  assert.notEqual(a.source?.geo, b.source?.geo);
  (a.source!.geo as { country_iso_code: string }).country_iso_code = 'XX';
  assert.equal(b.source?.geo?.country_iso_code, 'US');
  // 8.8.8.8 and 10.0.0.5 were looked up once each and then answered from the cache.
  assert.equal(geo.stats().cache_hits, 2);
  // Events without addresses, or with junk in them, pass untouched.
  const odd = { '@timestamp': 't', event: { id: 'x', dataset: 't' }, source: { ip: 42 }, client: 'nope' } as unknown as EcsEvent;
  geo.enrich(odd);
  assert.deepEqual(odd.source, { ip: 42 });
  for (let i = 0; i < 20; i++) geo.lookup(`8.8.4.${i}`);
  assert.equal(geo.lookup('8.8.4.19')?.geo?.country_iso_code, 'US');
});
