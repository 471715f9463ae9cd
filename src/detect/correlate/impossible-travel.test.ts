import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readRuleFile } from '../rules/model.js';
import { RuleEngine } from '../rules/engine.js';
import { makeEvent } from '../rules/testing.js';
import { COUNTRY_CENTROIDS } from './country-centroids.js';
import { describeGap, distanceKm, placeOf, readGeoPoint } from './impossible-travel.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function rule(condition = 'speed_kmh: 1000\n        min_distance_km: 500', timespan = '24h'): string {
  return `title: travel
id: travel-1
author: tester
vigil:
    type: impossible_travel
    rules: [login]
    group-by: [user.name]
    timespan: ${timespan}
    condition:
        ${condition}
level: high
---
title: login
name: login
logsource:
    product: linux
    service: sshd
detection:
    sel:
        event.outcome: success
    condition: sel
`;
}

async function engineWith(yaml: string): Promise<RuleEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-travel-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'rule.yml'), yaml);
  const engine = await RuleEngine.load({ dirs: [dir], watch: false });
  assert.deepEqual(engine.report().rejected, []);
  return engine;
}

const at = (minutes: number) => new Date(Date.UTC(2025, 0, 20, 10, 0, 0) + minutes * 60_000).toISOString();
const login = (minutes: number, user: string, ip: string, geo: Record<string, unknown> | undefined, outcome = 'success') =>
  makeEvent({ '@timestamp': at(minutes), event: { dataset: 'sshd', outcome }, user: { name: user }, source: geo ? { ip, geo } : { ip } });
const de = { country_iso_code: 'DE', country_name: 'Germany' };
const au = { country_iso_code: 'AU', country_name: 'Australia' };
const us = { country_iso_code: 'US', country_name: 'United States' };
const berlin = { ...de, city_name: 'Berlin', location: { lat: 52.52, lon: 13.405 } };
const newYork = { ...us, city_name: 'New York', location: { lat: 40.7128, lon: -74.006 } };

describe('impossible travel', () => {
  test('great-circle distances and the country table', () => {
    // Berlin to New York is 6,385 km; London to Paris 344 km (haversine on the mean Earth radius).
    assert.equal(Math.round(distanceKm({ lat: 52.52, lon: 13.405 }, { lat: 40.7128, lon: -74.006 })), 6385);
    assert.equal(Math.round(distanceKm({ lat: 51.5074, lon: -0.1278 }, { lat: 48.8566, lon: 2.3522 })), 344);
    assert.equal(distanceKm({ lat: 10, lon: 20 }, { lat: 10, lon: 20 }), 0);
    // Antipodes: half the circumference.
    assert.equal(Math.round(distanceKm({ lat: 0, lon: 0.5 }, { lat: 0, lon: -179.5 })), Math.round(Math.PI * 6371.0088));
    // Every country GeoIP answers for most addresses is there, its centre inside it (roughly) and its size sane.
    for (const [code, lat, lon] of [['US', 39.9, -98.8], ['DE', 51, 10.4], ['CN', 36.8, 103.4], ['BR', -10.7, -53.2], ['AU', -25.6, 134.2], ['FR', 46.6, 2.5], ['XK', 42.6, 20.9]] as const) {
      const c = COUNTRY_CENTROIDS[code];
      assert.ok(c, code);
      assert.ok(distanceKm({ lat: c[0], lon: c[1] }, { lat, lon }) < 50, `${code} centre ${c[0]}, ${c[1]}`);
    }
    assert.ok(Object.keys(COUNTRY_CENTROIDS).length > 200);
    for (const [, , , r] of Object.entries(COUNTRY_CENTROIDS).map(([k, v]) => [k, ...v] as const)) assert.ok(r >= 0 && r < 2500);
  });

  test('geo points in every form Elasticsearch accepts; places from GeoIP fields', () => {
    assert.deepEqual(readGeoPoint({ lat: 1.5, lon: 2.5 }), { lat: 1.5, lon: 2.5 });
    assert.deepEqual(readGeoPoint([2.5, 1.5]), { lat: 1.5, lon: 2.5 });
    assert.deepEqual(readGeoPoint('1.5,2.5'), { lat: 1.5, lon: 2.5 });
    assert.deepEqual(readGeoPoint({ type: 'Point', coordinates: [2.5, 1.5] }), { lat: 1.5, lon: 2.5 });
    for (const bad of [{ lat: 0, lon: 0 }, { lat: 91, lon: 0 }, 'x,y', '1,2,3', null, 'Berlin', { lat: 'a', lon: 1 }]) assert.equal(readGeoPoint(bad), undefined);
    assert.equal(placeOf({ source: { ip: '10.0.0.1', geo: { name: 'private' } } }), undefined);
    assert.equal(placeOf({ source: { ip: '192.0.2.1' } }), undefined);
    assert.equal(placeOf({ source: { geo: { country_iso_code: 'ZZ' } } }), undefined);
    const country = placeOf({ source: { ip: '81.2.69.1', geo: de } })!;
    assert.equal(country.uncertaintyKm, COUNTRY_CENTROIDS.DE![2]);
    const city = placeOf({ source: { ip: '81.2.69.1', geo: berlin } })!;
    assert.deepEqual([city.lat, city.lon, city.uncertaintyKm, city.city], [52.52, 13.405, 0, 'Berlin']);
    // A City database's country-only answer (a location without a city) is as uncertain as the country.
    assert.equal(placeOf({ source: { geo: { ...de, location: { lat: 51, lon: 9 } } } })!.uncertaintyKm, COUNTRY_CENTROIDS.DE![2]);
    assert.equal(describeGap(45_000), '45 s');
    assert.equal(describeGap(38 * 60_000), '38 min');
    assert.equal(describeGap(185 * 60_000), '3 h 05 min');
  });

  test('fires on logins too far apart for the time between them, and explains the places, distance, time and speed', async () => {
    const engine = await engineWith(rule());
    const out = engine.process([login(0, 'alice', '81.2.69.10', de), login(40, 'alice', '1.120.0.10', au)]);
    assert.equal(out.length, 1);
    const d = out[0]!;
    assert.equal(d.severity, 'high');
    assert.deepEqual(d.entity, { field: 'user.name', value: 'alice' });
    assert.deepEqual(d.group, { 'user.name': 'alice' });
    assert.equal(d.evidence.length, 2);
    assert.match(d.reason, /^travel: alice logged in from Germany \(81\.2\.69\.10\) at 2025-01-20T10:00:00\.000Z and from Australia \(1\.120\.0\.10\) at 2025-01-20T10:40:00\.000Z: at least 12,641 km apart .* in 40 min, 18,962 km\/h \(more than 1,000 km\/h\)$/);
    assert.equal(d.details?.type, 'impossible_travel');
    assert.equal(d.details?.speed_kmh, 18962);
    assert.equal(d.details?.seconds, 2400);
    assert.deepEqual((d.details?.to as { country_iso_code: string }).country_iso_code, 'AU');

    const cities = engine.process([login(60, 'carol', '89.160.20.112', berlin), login(120, 'carol', '216.160.83.56', newYork)]);
    assert.equal(cities.length, 1);
    assert.match(cities[0]!.reason, /from Berlin, Germany \(89\.160\.20\.112\) .* and from New York, United States \(216\.160\.83\.56\) .*: 6,385 km apart in 1 h 00 min, 6,385 km\/h/);
    engine.close();
  });

  test('stays quiet for neighbours, plausible flights, unplaced addresses, failures and other users', async () => {
    const engine = await engineWith(rule());
    const out = engine.process([
      login(0, 'dave', '81.2.69.20', de),
      login(10, 'dave', '81.2.69.21', { country_iso_code: 'FR' }),
      login(0, 'erin', '81.2.69.30', de),
      login(11 * 60, 'erin', '216.160.83.30', us),
      login(0, 'frank', '10.0.0.5', { name: 'private' }),
      login(1, 'frank', '1.120.0.40', au),
      login(2, 'frank', '192.0.2.9', undefined),
      login(0, 'heidi', '81.2.69.40', de),
      login(1, 'ivan', '1.120.0.41', au),
      login(2, 'heidi', '1.120.0.42', au, 'failure'),
    ]);
    assert.deepEqual(out.map((d) => d.reason), []);
    assert.equal(engine.stats().unplaced, 2);
    engine.close();
  });

  test('the speed and the smallest distance are the rule\'s to choose', async () => {
    const slow = await engineWith(rule('speed_kmh: 20000'));
    assert.equal(slow.process([login(0, 'alice', '81.2.69.10', de), login(40, 'alice', '1.120.0.10', au)]).length, 0);
    slow.close();
    const near = await engineWith(rule('speed_kmh: 100\n        min_distance_km: 10'));
    // Berlin → Potsdam (27 km) in 5 minutes is 324 km/h.
    assert.equal(near.process([login(0, 'g', '89.160.20.50', berlin), login(5, 'g', '89.160.20.51', { ...de, city_name: 'Potsdam', location: { lat: 52.39, lon: 13.065 } })]).length, 1);
    near.close();
  });

  test('logins arriving out of order are compared by event time; after a detection the user is where they went last', async () => {
    const engine = await engineWith(rule());
    // Australia at 10:40 arrives before Germany at 10:00.
    const late = engine.process([login(40, 'alice', '1.120.0.10', au), login(0, 'alice', '81.2.69.10', de)]);
    assert.equal(late.length, 1);
    assert.match(late[0]!.reason, /from Germany .* at 2025-01-20T10:00:00\.000Z and from Australia .* at 2025-01-20T10:40:00\.000Z/);
    // Further logins from Australia are no new travel; going back to Germany an hour later is.
    assert.equal(engine.process([login(50, 'alice', '1.120.0.11', au), login(55, 'alice', '1.120.0.12', au)]).length, 0);
    assert.equal(engine.process([login(115, 'alice', '81.2.69.11', de)]).length, 1);
    // Beyond the timespan nothing is compared.
    assert.equal(engine.process([login(115 + 25 * 60, 'alice', '1.120.0.13', au)]).length, 0);
    engine.close();
  });

  test('a broken rule is reported with what to write', () => {
    const problems = (yaml: string) => readRuleFile(yaml, 'r.yml').problems.map((p) => p.message);
    assert.deepEqual(problems(rule('speed_kmh: fast')), ['vigil condition "speed_kmh" must be a number ≥ 1']);
    assert.deepEqual(problems(rule('knots: 500')), ['unknown impossible_travel condition "knots": use speed_kmh, min_distance_km']);
    assert.deepEqual(problems(rule(undefined, 'soon')), ['vigil "timespan" must be a duration such as 24h']);
    assert.match(problems(rule().replace('type: impossible_travel', 'type: teleport'))[0]!, /vigil "type" must be one of rate_spike, impossible_travel/);
    assert.match(problems(rule().replace('    group-by: [user.name]\n', ''))[0]!, /needs "group-by"/);
  });
});
