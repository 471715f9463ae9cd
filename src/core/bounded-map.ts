// A Map that keeps at most `limit` entries, dropping the least recently set first: for indexes keyed by values an
// attacker chooses (addresses, user names, alert ids), so that a flood of new keys costs evictions, not memory.

export class BoundedMap<K, V> extends Map<K, V> {
  /** Entries dropped to stay within the limit. */
  evictions = 0;

  constructor(readonly limit: number) {
    super();
  }

  /** Sets and marks the key as the most recent; drops the oldest beyond the limit. */
  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    while (this.size > this.limit) {
      super.delete(this.keys().next().value as K);
      this.evictions++;
    }
    return this;
  }
}
