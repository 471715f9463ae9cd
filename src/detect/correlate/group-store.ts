// Per-group state of one stateful detector, bounded: at most `maxGroups` groups, the least recently seen evicted
// first (a Map keeps insertion order, and touching a group moves it to the end). Evictions are counted so that an
// operator can see when the cap is too small for the traffic.

/** Reads one group-by value of an event's document. */
export type GroupReader = (doc: Record<string, unknown>) => string | undefined;

/** An event's group-by values, or undefined when one is missing or empty: such an event belongs to no group. */
export function readGroup(readers: readonly GroupReader[], doc: Record<string, unknown>): string[] | undefined {
  const values: string[] = [];
  for (const read of readers) {
    const v = read(doc);
    if (v === undefined || v === '') return undefined;
    values.push(v);
  }
  return values;
}

/** The key a group's state is kept under, and a bus deployment partitions by. */
export function groupKeyOf(values: readonly string[]): string {
  return values.join('\u0000');
}

export class GroupStore<S> {
  private readonly groups = new Map<string, S>();
  /** The most recently touched key and its state: touching it again needs no reordering (runs of one source). */
  private lastKey: string | undefined;
  private lastState: S | undefined;
  evictions = 0;

  constructor(private readonly maxGroups: number) {}

  get size(): number {
    return this.groups.size;
  }

  /** The group's state (created by `make` when new), marked as most recently seen. */
  touch(key: string, make: () => S): S {
    if (key === this.lastKey) return this.lastState!;
    let state = this.groups.get(key);
    if (state !== undefined) {
      this.groups.delete(key);
      this.groups.set(key, state);
    } else {
      state = make();
      this.groups.set(key, state);
    }
    this.lastKey = key;
    this.lastState = state;
    while (this.groups.size > this.maxGroups) {
      const oldest = this.groups.keys().next().value as string;
      this.groups.delete(oldest);
      this.evictions++;
    }
    return state;
  }

  delete(key: string): void {
    this.groups.delete(key);
    if (key === this.lastKey) this.forgetLast();
  }

  private forgetLast(): void {
    this.lastKey = undefined;
    this.lastState = undefined;
  }

  /** Drops groups, oldest-seen first, while `idle(state)` says they hold nothing current; stops at the first live one. */
  sweep(idle: (state: S) => boolean): number {
    this.forgetLast();
    let dropped = 0;
    for (const [key, state] of this.groups) {
      if (!idle(state)) break;
      this.groups.delete(key);
      dropped++;
    }
    return dropped;
  }

  /** Takes over another store's groups (a reloaded rule keeps its windows). */
  adopt(other: GroupStore<S>): void {
    this.forgetLast();
    for (const [key, state] of other.groups) this.groups.set(key, state);
    this.evictions += other.evictions;
    while (this.groups.size > this.maxGroups) {
      this.groups.delete(this.groups.keys().next().value as string);
      this.evictions++;
    }
  }
}
