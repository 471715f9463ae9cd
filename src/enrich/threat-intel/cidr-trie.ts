// Longest-path prefix matching for IP blocks: a binary trie over the address bits in typed arrays, so that a lookup
// walks at most 32 (IPv4) or 128 (IPv6) nodes whatever the number of blocks, instead of scanning a list.
export class CidrTrie<T> {
  /** Children of node n at 2n (bit 0) and 2n+1 (bit 1); 0 means none (node 0 is the root, never a child). */
  private children = new Int32Array(1024);
  /** Index into `values` of the entries stored at each node, or -1. */
  private slots = new Int32Array(512).fill(-1);
  private readonly values: T[][] = [];
  private nodes = 1;

  constructor(private readonly bits: 32 | 128) {}

  get blocks(): number {
    return this.values.length;
  }

  /** Adds `value` for the block whose address is given as 32-bit words (one for IPv4, four for IPv6). */
  insert(words: ArrayLike<number>, prefix: number, value: T): void {
    let node = 0;
    for (let i = 0; i < prefix; i++) {
      const bit = (words[i >>> 5]! >>> (31 - (i & 31))) & 1;
      let next = this.children[2 * node + bit]!;
      if (next === 0) {
        next = this.allocate();
        this.children[2 * node + bit] = next;
      }
      node = next;
    }
    let slot = this.slots[node]!;
    if (slot < 0) {
      slot = this.values.length;
      this.values.push([]);
      this.slots[node] = slot;
    }
    this.values[slot]!.push(value);
  }

  private allocate(): number {
    const n = this.nodes++;
    if (2 * n + 2 > this.children.length) {
      const grown = new Int32Array(this.children.length * 2);
      grown.set(this.children);
      this.children = grown;
      const slots = new Int32Array(this.slots.length * 2).fill(-1);
      slots.set(this.slots);
      this.slots = slots;
    }
    return n;
  }

  /** Every entry of every block containing the address, the widest block first; undefined when none does. */
  match(words: ArrayLike<number>): T[] | undefined {
    let found: T[] | undefined;
    let node = 0;
    for (let i = 0; ; i++) {
      const slot = this.slots[node]!;
      if (slot >= 0) found = found ? found.concat(this.values[slot]!) : this.values[slot]!;
      if (i === this.bits) break;
      const next = this.children[2 * node + ((words[i >>> 5]! >>> (31 - (i & 31))) & 1)]!;
      if (next === 0) break;
      node = next;
    }
    return found;
  }
}

/** The four 32-bit words of a 128-bit address. */
export function v6Words(value: bigint): Uint32Array {
  return Uint32Array.of(Number((value >> 96n) & 0xffffffffn), Number((value >> 64n) & 0xffffffffn), Number((value >> 32n) & 0xffffffffn), Number(value & 0xffffffffn));
}
