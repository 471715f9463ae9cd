// Rule switches made through the API (`PATCH /api/v1/rules/:id`, the dashboard's Rules page) in a bus deployment:
// kept in a JetStream key-value bucket, so that every analyze worker applies them, now and after any restart, and
// the store role's rule list shows them. The configuration's `rules.disabled` is the default; a switch wins over it.
import { KvWatchInclude, type KV } from '@nats-io/kv';
import { errorMessage } from '../core/errors.js';
import { BUCKETS, type Bus } from './connection.js';

/** What a switch can be applied to: a rule engine (each partition has its own). */
export interface Switchable {
  enable(id: string): boolean;
  disable(id: string): boolean;
}

interface SwitchRecord {
  id: string;
  enabled: boolean;
  by: string;
  at: string;
}

/** Rule ids are free text (a Sigma id, a name); KV keys are letters, digits and `-_=./`: base64url fits. */
const keyOf = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');

export class RuleSwitches {
  private readonly switches = new Map<string, { enabled: boolean; revision: number }>();
  private readonly listeners: ((id: string, enabled: boolean) => void)[] = [];
  private watching: { stop(): void } | undefined;
  /** Bumped on every change: engines compare it with the version they last applied. */
  version = 0;

  private constructor(
    private readonly kv: KV,
    private readonly log: (line: string) => void,
  ) {}

  /** Opens the bucket, reads every switch, and follows changes. */
  static async open(bus: Bus, log: (line: string) => void = (line) => console.error(line)): Promise<RuleSwitches> {
    const switches = new RuleSwitches(await bus.kv(BUCKETS.rules), log);
    await switches.start();
    return switches;
  }

  private async start(): Promise<void> {
    // Changes first, then what is there: a change made in between is seen twice and kept by its revision.
    const watch = await this.kv.watch({ include: KvWatchInclude.UpdatesOnly });
    this.watching = watch;
    void (async () => {
      try {
        for await (const entry of watch) {
          if (entry.operation === 'PUT') this.take(entry.value, entry.revision);
        }
      } catch (err) {
        this.log(`vigil: rule switches: ${errorMessage(err)}`);
      }
    })();
    const keys = await this.kv.keys();
    const names: string[] = [];
    for await (const key of keys) names.push(key);
    for (const key of names) {
      const entry = await this.kv.get(key);
      if (entry && entry.operation === 'PUT') this.take(entry.value, entry.revision);
    }
  }

  private take(value: Uint8Array, revision: number): void {
    let record: SwitchRecord;
    try {
      record = JSON.parse(Buffer.from(value).toString('utf8')) as SwitchRecord;
    } catch {
      return;
    }
    if (typeof record?.id !== 'string' || typeof record.enabled !== 'boolean') return;
    const known = this.switches.get(record.id);
    if (known && known.revision >= revision) return;
    this.switches.set(record.id, { enabled: record.enabled, revision });
    this.version++;
    for (const listener of this.listeners) listener(record.id, record.enabled);
  }

  /** Every switch made so far: rule id → enabled. */
  current(): Map<string, boolean> {
    return new Map([...this.switches].map(([id, s]) => [id, s.enabled]));
  }

  onChange(listener: (id: string, enabled: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Records a switch for every process; resolves once JetStream has it. */
  async set(id: string, enabled: boolean, by: string): Promise<void> {
    const record: SwitchRecord = { id, enabled, by, at: new Date().toISOString() };
    const revision = await this.kv.put(keyOf(id), JSON.stringify(record));
    this.take(Buffer.from(JSON.stringify(record)), revision);
  }

  /** Applies every switch to an engine (rules it does not have are ignored). */
  applyTo(engine: Switchable): void {
    for (const [id, s] of this.switches) {
      if (s.enabled) engine.enable(id);
      else engine.disable(id);
    }
  }

  close(): void {
    this.watching?.stop();
    this.watching = undefined;
  }
}
