// Events spread over days for the aggregate contract (top values and histograms over ranges whose edges fall anywhere),
// and the answers counted here in plain code from the events themselves, to hold every engine's answers against.
import assert from 'node:assert/strict';
import type { EcsEvent } from '../../core/event.js';
import { getField } from '../../core/event.js';
import { planHistogram, DAY_MS } from '../requests.js';
import { parseIsoMicros } from '../time.js';
import type { EventStore, HistogramResult, TimeBounds, TopResult } from '../types.js';
import { Random } from '../../simulate/scenarios.js';

const DATASETS = ['sshd', 'nginx.access', 'nginx.access', 'nginx.access', 'auditd', 'app.web'];
const HOSTS = ['web-1', 'web-2', 'db-1', 'bastion'];
const USERS = ['root', 'admin', 'deploy', "o'brien", 'alice'];
const IPS = ['203.0.113.7', '198.51.100.23', '10.1.2.3', '2001:db8::23', '192.0.2.44', '192.0.2.45', '198.18.0.1', '100.64.7.9'];

/** Whole-µs timestamps that sit on and beside bucket edges (a minute, an hour, a day), where an off-by-one would show. */
const EDGE_OFFSETS_US = [0n, 1n, -1n, 999n, 1000n, -1000n];

/**
 * `count` events over `days` days from `startMs`, in random order (as imports and late senders deliver them): varied
 * datasets (some missing), hosts, users (most events have none), source addresses (IPv4 and IPv6) and event.action,
 * a few at microseconds beside bucket edges. Each is received (`event.ingested`) at a random time of the same days,
 * or with `live` at its @timestamp (as live events are: retention by age then takes whole days).
 */
export function spreadEvents(count: number, startMs: number, days: number, prefix: string, seed = 7, live = false): EcsEvent[] {
  const generator = new Random(seed); // mulberry32: every run sees the same data
  const random = () => generator.next();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const events: EcsEvent[] = [];
  for (let i = 0; i < count; i++) {
    let ts: string;
    if (i % 17 === 0) {
      // On or beside a minute, hour or day edge, to the microsecond.
      const grain = pick([60_000, 3_600_000, DAY_MS]);
      const edge = startMs + grain * Math.floor((random() * days * DAY_MS) / grain);
      const micros = BigInt(edge) * 1000n + pick(EDGE_OFFSETS_US);
      ts = `${new Date(Number(micros / 1000n)).toISOString().slice(0, 19)}.${String(micros % 1_000_000n).padStart(6, '0')}Z`;
    } else {
      ts = new Date(startMs + Math.floor(random() * days * DAY_MS)).toISOString();
    }
    const dataset = random() < 0.1 ? undefined : pick(DATASETS);
    const event: EcsEvent = {
      '@timestamp': ts,
      event: {
        id: `${prefix}-${i}`,
        ...(dataset !== undefined ? { dataset } : {}),
        ...(random() < 0.5 ? { action: pick(['login', 'logout', 'request']) } : {}),
        ingested: live ? ts : new Date(startMs + Math.floor(random() * days * DAY_MS)).toISOString(),
      } as EcsEvent['event'],
      message: `spread event ${i}`,
    };
    if (random() < 0.9) event.host = { name: pick(HOSTS) };
    if (random() < 0.8) event.source = { ip: IPS[Math.min(IPS.length - 1, Math.floor(-Math.log(random() + 1e-9) * 2))]! };
    if (random() < 0.35) event.user = { name: pick(USERS) };
    events.push(event);
  }
  return events;
}

/**
 * Events over `days` days whose every field value no other event has, received live: once retention deletes them, no
 * top list or split may name their values (stores that keep counts must drop what went to zero).
 */
export function loneEvents(startMs: number, days: number): EcsEvent[] {
  return Array.from({ length: days * 3 }, (_, i) => ({
    '@timestamp': new Date(startMs + i * (DAY_MS / 3) + 1234).toISOString(),
    event: { id: `lone-${i}`, dataset: 'lone.dataset', ingested: new Date(startMs + i * (DAY_MS / 3) + 1234).toISOString() },
    host: { name: 'lone-host' },
    source: { ip: '192.0.2.250' },
    user: { name: 'lone-user' },
    message: `lone event ${i}`,
  }));
}

function micros(event: EcsEvent): bigint {
  return parseIsoMicros(event['@timestamp'])!;
}

function inRange(event: EcsEvent, bounds: TimeBounds): boolean {
  const us = micros(event);
  return (bounds.from === undefined || us >= BigInt(Math.trunc(bounds.from)) * 1000n) && (bounds.to === undefined || us < BigInt(Math.trunc(bounds.to)) * 1000n);
}

function valueOf(event: EcsEvent, field: string): string | undefined {
  const value = getField(event as unknown as Record<string, unknown>, field);
  return typeof value === 'string' ? value : undefined;
}

function ranked(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** What `top` must answer over `events` for a field whose values are single strings. */
export function expectedTop(events: readonly EcsEvent[], field: string, size: number, bounds: TimeBounds): TopResult {
  const counts = new Map<string, number>();
  for (const e of events) {
    const value = valueOf(e, field);
    if (value !== undefined && inRange(e, bounds)) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { field, total, values: ranked(counts).slice(0, size).map(([value, count]) => ({ value, count })) };
}

/** What `histogram` must answer over `events` (matching every event) for a closed range, optionally split by a field. */
export function expectedHistogram(
  events: readonly EcsEvent[],
  request: { from: number; to: number; interval?: number; buckets?: number; by?: { field: string; size: number } },
): HistogramResult {
  const plan = planHistogram({ query: { type: 'all' }, ...request }, request.from, request.to)!;
  const inside = events.filter((e) => inRange(e, request));
  const bucketOf = (e: EcsEvent): number => Number((micros(e) - BigInt(plan.start) * 1000n) / (BigInt(plan.interval) * 1000n));
  const buckets = Array.from({ length: plan.count }, (_, i) => ({ key: new Date(plan.start + i * plan.interval).toISOString(), count: 0 }));
  for (const e of inside) buckets[bucketOf(e)]!.count++;
  if (request.by === undefined) return { interval: plan.interval, buckets };
  const { field, size } = request.by;
  const totals = new Map<string, number>();
  for (const e of inside) {
    const value = valueOf(e, field);
    if (value !== undefined) totals.set(value, (totals.get(value) ?? 0) + 1);
  }
  const values = ranked(totals)
    .slice(0, size)
    .map(([value]) => value);
  const split = buckets.map((b) => ({ ...b, counts: new Array<number>(values.length).fill(0) }));
  for (const e of inside) {
    const value = valueOf(e, field);
    const i = value === undefined ? -1 : values.indexOf(value);
    if (i >= 0) split[bucketOf(e)]!.counts[i]!++;
  }
  return { interval: plan.interval, buckets: split, by: { field, values } };
}

/** Time ranges whose edges fall on and between minutes, hours and days, open at either end or both, over `startMs`'s days. */
export function aggregateRanges(startMs: number, days: number, thorough: boolean): TimeBounds[] {
  const H = 3_600_000;
  const few: TimeBounds[] = [
    {},
    { from: startMs + H * 1.5 + 17_321, to: startMs + 4 * DAY_MS + 7 * 60_000 + 999 },
    { from: startMs + 2 * DAY_MS - 1, to: startMs + 2 * DAY_MS + 1 },
    { from: startMs + 4 * DAY_MS + 1 },
  ];
  if (!thorough) return few;
  return [
    ...few,
    { from: startMs, to: startMs + days * DAY_MS },
    { from: startMs + DAY_MS, to: startMs + 3 * DAY_MS },
    { from: startMs + 10 * 60_000 + 5_000, to: startMs + 10 * 60_000 + 40_000 },
    { from: startMs + 5 * H + 59_999, to: startMs + 9 * H + 1 },
    { to: startMs + 2 * DAY_MS + 30 * 60_000 },
    { from: startMs - 3 * DAY_MS, to: startMs + days * DAY_MS + 3 * DAY_MS },
  ];
}

const FIELDS = ['event.dataset', 'host.name', 'source.ip', 'user.name', 'event.action'];
const SPLIT_FIELDS = ['event.dataset', 'user.name', 'event.action'];

/**
 * Holds the store's top values and histograms over the ranges of aggregateRanges against the answers counted from
 * `events` (exactly the events the store holds). `thorough`: more ranges and bucket widths (a few hundred queries).
 */
export async function assertAggregates(store: EventStore, events: readonly EcsEvent[], startMs: number, days: number, thorough = false): Promise<void> {
  const all = { type: 'all' } as const;
  for (const bounds of aggregateRanges(startMs, days, thorough)) {
    const label = JSON.stringify(bounds);
    for (const field of FIELDS) {
      const size = field === 'source.ip' ? 100 : 3;
      assert.deepEqual(await store.top({ query: all, field, size, ...bounds }), expectedTop(events, field, size, bounds), `top ${field} ${label}`);
    }
    if (bounds.from === undefined || bounds.to === undefined) continue;
    const closed = { from: bounds.from, to: bounds.to };
    const span = closed.to - closed.from;
    const intervals = thorough ? [undefined, 60_000, 45_000, 1_800_000, 3_600_000, DAY_MS, 7 * DAY_MS] : [undefined, 3_600_000];
    for (const interval of intervals) {
      if (interval !== undefined && span / interval > 5000) continue;
      const shape = { ...closed, ...(interval !== undefined ? { interval } : { buckets: 72 }) };
      assert.deepEqual(await store.histogram({ query: all, ...shape }), expectedHistogram(events, shape), `histogram ${interval} ${label}`);
      if (interval !== undefined && (interval !== 3_600_000 || !thorough)) continue;
      for (const field of SPLIT_FIELDS) {
        const by = { field, size: field === 'user.name' ? 10 : 3 };
        assert.deepEqual(await store.histogram({ query: all, ...shape, by }), expectedHistogram(events, { ...shape, by }), `histogram by ${field} ${interval} ${label}`);
      }
    }
  }
}
