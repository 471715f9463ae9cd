// Which Vigil processes make up the deployment: each writes a short entry (its roles, host, URL, what it did lately)
// into a JetStream key-value bucket every few seconds; entries not renewed vanish (the bucket's TTL). The api role's
// health shows them, so one page tells whether the store role and the analyze workers are there.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KV } from '@nats-io/kv';
import { errorMessage } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { BUCKETS, type Bus } from './connection.js';
import type { ProcessEntry } from './process.js';

export type { ProcessEntry } from './process.js';

/** Entries live this long without renewal (three renewals missed). */
function ttlMs(bus: Bus): number {
  return Math.max(15, bus.config.lease_seconds * 3) * 1000;
}

export class Presence {
  private timer: NodeJS.Timeout | undefined;
  private readonly id: string;
  private readonly started = new Date().toISOString();

  private constructor(
    private readonly kv: KV,
    private readonly entry: () => Omit<ProcessEntry, 'id' | 'host' | 'pid' | 'version' | 'started_at' | 'seen_at'>,
    every: number,
  ) {
    this.id = `${hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${process.pid}-${randomUUID().slice(0, 4)}`;
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
  }

  /** Opens (or creates) the bucket. */
  static bucket(bus: Bus): Promise<KV> {
    return bus.kv(BUCKETS.processes, { ttlMs: ttlMs(bus) });
  }

  static async start(bus: Bus, entry: () => Omit<ProcessEntry, 'id' | 'host' | 'pid' | 'version' | 'started_at' | 'seen_at'>): Promise<Presence> {
    const ttl = ttlMs(bus);
    const presence = new Presence(await Presence.bucket(bus), entry, ttl / 3);
    await presence.renew();
    return presence;
  }

  private async renew(): Promise<void> {
    const body: ProcessEntry = { id: this.id, host: hostname(), pid: process.pid, version: VERSION, started_at: this.started, seen_at: new Date().toISOString(), ...this.entry() };
    try {
      await this.kv.put(this.id, JSON.stringify(body));
    } catch {
      // the bus is electing or unreachable: the next renewal tells it
    }
  }

  /** Every live process of the deployment. */
  static async list(bus: Bus): Promise<ProcessEntry[]> {
    const kv = await Presence.bucket(bus);
    const names: string[] = [];
    for await (const key of await kv.keys()) names.push(key);
    const out: ProcessEntry[] = [];
    for (const name of names) {
      try {
        const entry = await kv.get(name);
        if (entry?.operation === 'PUT') out.push(entry.json<ProcessEntry>());
      } catch (err) {
        out.push({ id: name, roles: [], host: '?', pid: 0, version: '?', url: null, started_at: '', seen_at: '', details: { error: errorMessage(err) } });
      }
    }
    return out.sort((a, b) => a.roles.join(',').localeCompare(b.roles.join(',')) || a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.kv.delete(this.id).catch(() => undefined);
  }
}
