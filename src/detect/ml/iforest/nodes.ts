// The node columns of a forest while it grows, written tree after tree and grown by doubling.

/** Growable node columns, written tree after tree. */
export class NodeBuffer {
  feature = new Int32Array(1024);
  threshold = new Float64Array(1024);
  left = new Int32Array(1024);
  size = new Int32Array(1024);
  low = new Float64Array(1024);
  high = new Float64Array(1024);
  length = 0;

  /** Makes room for `extra` more nodes. */
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.feature.length) return;
    let cap = this.feature.length;
    while (cap < need) cap *= 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.length));
      return b;
    };
    this.feature = grow(this.feature, (n) => new Int32Array(n));
    this.threshold = grow(this.threshold, (n) => new Float64Array(n));
    this.left = grow(this.left, (n) => new Int32Array(n));
    this.size = grow(this.size, (n) => new Int32Array(n));
    this.low = grow(this.low, (n) => new Float64Array(n));
    this.high = grow(this.high, (n) => new Float64Array(n));
  }

  add(size: number): number {
    const i = this.length++;
    this.feature[i] = -1;
    this.threshold[i] = 0;
    this.left[i] = -1;
    this.size[i] = size;
    this.low[i] = 0;
    this.high[i] = 0;
    return i;
  }
}
