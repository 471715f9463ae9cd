// The Isolation Forest (Liu, Ting & Zhou, ICDM 2008) over flat typed arrays: every node of every tree lives in a few
// Int32Array/Float64Array columns, so scoring is one tight loop with no object per node. Growing follows
// scikit-learn's IsolationForest (sub-samples drawn without replacement, height limit ceil(log2 ψ), a feature chosen
// uniformly among those not constant in the node, a threshold uniform in [min, max), `x <= t` going left), so that
// its scores and AUCs can be compared with scikit-learn's directly.
import { VigilError } from '../../../core/errors.js';
import { assertFinite, type Matrix } from './matrix.js';
import { averagePathLength } from './path-length.js';
import { NodeBuffer } from './nodes.js';
import { Random } from './random.js';
import { growSklearn } from './grow-sklearn.js';

export interface ForestOptions {
  /** Number of trees (t in the paper). Default 100. */
  trees?: number;
  /** Sub-sample size per tree (ψ). Default 256; with fewer rows, all rows (as scikit-learn does). */
  sampleSize?: number;
  /** Seed of the generator: the same data, options and seed grow the same forest. Default 0. */
  seed?: number;
  /**
   * `vigil` (default): Vigil's own generator. `sklearn`: scikit-learn 1.2's random streams and splitter, on values
   * read as float32, so that seed s grows the forest of `IsolationForest(random_state=s)` (see grow-sklearn.ts).
   */
  rng?: 'vigil' | 'sklearn';
}

export interface ForestParams {
  trees: number;
  /** ψ actually used: min(requested sample size, training rows). */
  sampleSize: number;
  seed: number;
  /** Number of features (columns) the forest expects. */
  features: number;
  /** Height limit: ceil(log2(max(ψ, 2))). */
  maxDepth: number;
  /** Rows the forest was fitted on. */
  trainingRows: number;
}

/** The node columns of a whole forest; tree t owns nodes [roots[t], roots[t+1]) (the last up to feature.length). */
export interface ForestArrays {
  roots: Int32Array;
  /** Split feature, or -1 for a leaf. */
  feature: Int32Array;
  /** Split threshold (`x <= threshold` goes left); 0 for a leaf. */
  threshold: Float64Array;
  /** Left child index (the right child is left + 1), or -1 for a leaf. */
  left: Int32Array;
  /** Training samples that reached the node. */
  size: Int32Array;
  /** The split feature's minimum and maximum over the node's training samples (0 for a leaf), for range-aware scoring. */
  low: Float64Array;
  high: Float64Array;
}

export const DEFAULT_TREES = 100;
export const DEFAULT_SAMPLE_SIZE = 256;
const MAX_TREES = 100_000;

function checkOptions(options: ForestOptions): Required<ForestOptions> {
  const rng = options.rng ?? 'vigil';
  if (rng !== 'vigil' && rng !== 'sklearn') throw new VigilError('bad_request', `rng must be "vigil" or "sklearn", got ${String(rng)}`);
  const trees = options.trees ?? DEFAULT_TREES;
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(trees) || trees < 1 || trees > MAX_TREES) throw new VigilError('bad_request', `the number of trees must be an integer from 1 to ${MAX_TREES}, got ${trees}`);
  if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new VigilError('bad_request', `the sample size must be a positive integer, got ${sampleSize}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new VigilError('bad_request', `the seed must be an integer from 0 to 4294967295, got ${seed}`);
  return { trees, sampleSize, seed, rng };
}

/**
 * Grows the trees one at a time (a generator, so that a caller can stop between trees and yield the event loop).
 * Rows are sampled without replacement by a partial Fisher-Yates shuffle of one permutation kept across trees.
 */
function* grow(m: Matrix, opts: Required<ForestOptions>, nodes: NodeBuffer, roots: Int32Array): Generator<number, void> {
  const { data, rows, cols } = m;
  const psi = Math.min(opts.sampleSize, rows);
  const maxDepth = Math.ceil(Math.log2(Math.max(psi, 2)));
  const rng = new Random(opts.seed);
  const perm = new Int32Array(rows);
  for (let i = 0; i < rows; i++) perm[i] = i;
  // The sample, column-major (feature f of sample s at f * psi + s), so that a node's min/max scan is sequential.
  const sample = new Float64Array(psi * cols);
  const idx = new Int32Array(psi);
  const candidates = new Int32Array(cols);
  // Explicit stack of nodes to split: node id, start, end (into idx), depth.
  const stack = new Int32Array(4 * (maxDepth + 2) * 2);

  for (let t = 0; t < opts.trees; t++) {
    for (let i = 0; i < psi; i++) {
      const j = i + rng.below(rows - i);
      const tmp = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = tmp;
    }
    for (let s = 0; s < psi; s++) {
      const base = perm[s]! * cols;
      for (let f = 0; f < cols; f++) sample[f * psi + s] = data[base + f]!;
      idx[s] = s;
    }
    // A tree of ψ samples has at most 2ψ - 1 nodes.
    nodes.reserve(2 * psi - 1);
    roots[t] = nodes.length;
    let sp = 0;
    stack[sp++] = nodes.add(psi);
    stack[sp++] = 0;
    stack[sp++] = psi;
    stack[sp++] = 0;
    while (sp > 0) {
      const depth = stack[--sp]!;
      const end = stack[--sp]!;
      const start = stack[--sp]!;
      const node = stack[--sp]!;
      if (depth >= maxDepth || end - start <= 1) continue;
      // Draw features without replacement until one is not constant in this node (scikit-learn's random splitter
      // with max_features=1 does the same), which picks uniformly among the non-constant ones.
      for (let f = 0; f < cols; f++) candidates[f] = f;
      let chosen = -1;
      let lo = 0;
      let hi = 0;
      for (let remaining = cols; remaining > 0 && chosen < 0; remaining--) {
        const k = rng.below(remaining);
        const f = candidates[k]!;
        candidates[k] = candidates[remaining - 1]!;
        const off = f * psi;
        let min = sample[off + idx[start]!]!;
        let max = min;
        for (let i = start + 1; i < end; i++) {
          const v = sample[off + idx[i]!]!;
          if (v < min) min = v;
          else if (v > max) max = v;
        }
        if (max > min) {
          chosen = f;
          lo = min;
          hi = max;
        }
      }
      if (chosen < 0) continue; // every feature constant: a leaf of duplicates
      let threshold = lo + rng.next() * (hi - lo);
      if (threshold >= hi) threshold = lo; // rounding: keep the maximum on the right
      // Partition idx[start, end) so that samples with x <= threshold come first.
      const off = chosen * psi;
      let i = start;
      let j = end - 1;
      while (i <= j) {
        if (sample[off + idx[i]!]! <= threshold) i++;
        else {
          const tmp = idx[i]!;
          idx[i] = idx[j]!;
          idx[j] = tmp;
          j--;
        }
      }
      const leftNode = nodes.add(i - start);
      nodes.add(end - i);
      nodes.feature[node] = chosen;
      nodes.threshold[node] = threshold;
      nodes.left[node] = leftNode;
      nodes.low[node] = lo;
      nodes.high[node] = hi;
      stack[sp++] = leftNode + 1;
      stack[sp++] = i;
      stack[sp++] = end;
      stack[sp++] = depth + 1;
      stack[sp++] = leftNode;
      stack[sp++] = start;
      stack[sp++] = i;
      stack[sp++] = depth + 1;
    }
    yield t;
  }
}

export class IsolationForest {
  readonly params: ForestParams;
  readonly arrays: ForestArrays;
  /** For inner nodes the threshold, for leaves depth + c(size): the scoring loop reads one array for both. */
  private readonly walk: Float64Array;
  /** trees * c(ψ): the normaliser of the summed path lengths. */
  private readonly norm: number;
  private layout: BatchLayout | undefined;

  /** Use `fit`, `fitAsync` or a deserializer; the arrays are validated here. */
  constructor(params: ForestParams, arrays: ForestArrays) {
    this.walk = validate(params, arrays);
    this.params = params;
    this.arrays = arrays;
    this.norm = params.trees * averagePathLength(params.sampleSize);
  }

  /** Fits a forest on every row of `m`, all at once. Throws on NaN or infinite values and on an empty matrix. */
  static fit(m: Matrix, options: ForestOptions = {}): IsolationForest {
    const { opts, nodes, roots, gen } = start(m, options);
    for (let step = gen.next(); !step.done; step = gen.next()) {
      // one tree per step
    }
    return finish(m, opts, nodes, roots);
  }

  /**
   * Fits like `fit`, yielding the event loop (setImmediate) whenever a slice of growing took `sliceMs`, so a live
   * pipeline keeps moving while a model trains. `onTree` hears how many trees are grown, for progress reports.
   */
  static async fitAsync(m: Matrix, options: ForestOptions = {}, sliceMs = 5, onTree?: (grown: number, trees: number) => void): Promise<IsolationForest> {
    const { opts, nodes, roots, gen } = start(m, options);
    let sliceStart = performance.now();
    for (let step = gen.next(); !step.done; step = gen.next()) {
      onTree?.(step.value + 1, opts.trees);
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return finish(m, opts, nodes, roots);
  }

  get features(): number {
    return this.params.features;
  }

  /**
   * Anomaly scores in (0, 1] of every row, in order: 2^(-mean path length / c(ψ)). Near 1 is anomalous, below 0.5
   * ordinary. Rows must have exactly `features` columns of finite values (checked).
   *
   * The batch path is branch-free: each block of rows is first turned into ranks among the forest's split thresholds
   * of each feature (so `x > t` becomes an integer subtraction's sign bit), leaves point to themselves so that every
   * walk takes the tree's full height, and four rows walk each tree side by side so that their loads overlap.
   */
  score(m: Matrix, out = new Float64Array(m.rows)): Float64Array {
    this.checkShape(m);
    assertFinite(m, 'cannot score');
    const { data, rows, cols } = m;
    const { packed, leafValue, height, cuts, buckets, scales } = this.batchLayout();
    const roots = this.arrays.roots;
    const trees = roots.length;
    const norm = this.norm;
    const ranks = new Int32Array(BLOCK * cols);
    for (let b0 = 0; b0 < rows; b0 += BLOCK) {
      const b1 = Math.min(rows, b0 + BLOCK);
      for (let f = 0; f < cols; f++) {
        const c = cuts[f]!;
        const len = c.length;
        if (len === 0) {
          for (let r = b0; r < b1; r++) ranks[(r - b0) * cols + f] = 0;
          continue;
        }
        // Rank = number of thresholds strictly below x (x > t_j exactly when rank(x) > j). A bucket table over the
        // thresholds' range gives the thresholds below x's bucket at once; only those in its bucket are compared.
        const table = buckets[f]!;
        const nb = table.length - 2;
        const min = c[0]!;
        const scale = scales[f]!;
        for (let r = b0; r < b1; r++) {
          const x = data[r * cols + f]!;
          let b = Math.floor((x - min) * scale);
          b = b < 0 ? 0 : b > nb ? nb : b;
          let lo = table[b]!;
          let hi = table[b + 1]!;
          if (hi - lo > 8) {
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if (c[mid]! < x) lo = mid + 1;
              else hi = mid;
            }
          } else while (lo < hi && c[lo]! < x) lo++;
          ranks[(r - b0) * cols + f] = lo;
        }
      }
      for (let r = b0; r < b1; r++) out[r] = 0;
      for (let t = 0; t < trees; t++) {
        const root = roots[t]! << 2;
        const steps = height[t]!;
        let r = b0;
        for (; r + 3 < b1; r += 4) {
          const a0 = (r - b0) * cols;
          const a1 = a0 + cols;
          const a2 = a1 + cols;
          const a3 = a2 + cols;
          let k0 = root;
          let k1 = root;
          let k2 = root;
          let k3 = root;
          for (let s = 0; s < steps; s++) {
            k0 = packed[k0]! + (((packed[k0 + 2]! - ranks[a0 + packed[k0 + 1]!]!) >>> 31) << 2);
            k1 = packed[k1]! + (((packed[k1 + 2]! - ranks[a1 + packed[k1 + 1]!]!) >>> 31) << 2);
            k2 = packed[k2]! + (((packed[k2 + 2]! - ranks[a2 + packed[k2 + 1]!]!) >>> 31) << 2);
            k3 = packed[k3]! + (((packed[k3 + 2]! - ranks[a3 + packed[k3 + 1]!]!) >>> 31) << 2);
          }
          out[r] = out[r]! + leafValue[k0 >> 2]!;
          out[r + 1] = out[r + 1]! + leafValue[k1 >> 2]!;
          out[r + 2] = out[r + 2]! + leafValue[k2 >> 2]!;
          out[r + 3] = out[r + 3]! + leafValue[k3 >> 2]!;
        }
        for (; r < b1; r++) {
          const a = (r - b0) * cols;
          let k = root;
          for (let s = 0; s < steps; s++) k = packed[k]! + (((packed[k + 2]! - ranks[a + packed[k + 1]!]!) >>> 31) << 2);
          out[r] = out[r]! + leafValue[k >> 2]!;
        }
      }
      for (let r = b0; r < b1; r++) out[r] = norm === 0 ? 0.5 : Math.pow(2, -out[r]! / norm);
    }
    return out;
  }

  /** The batch scoring layout, built on first use. */
  private batchLayout(): BatchLayout {
    return (this.layout ??= buildBatchLayout(this.params, this.arrays, this.walk));
  }

  /** Mean path length E[h(x)] of one row (`features` values starting at `offset`), c(size) added at the leaves. */
  pathLength(row: ArrayLike<number>, offset = 0): number {
    const { feature, left, roots } = this.arrays;
    const walk = this.walk;
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        n = row[offset + f]! <= walk[n]! ? left[n]! : left[n]! + 1;
        f = feature[n]!;
      }
      sum += walk[n]!;
    }
    return sum / roots.length;
  }

  /** The anomaly score of one row; NaN compares false and goes right, so callers impute missing values first. */
  scoreRow(row: ArrayLike<number>, offset = 0): number {
    if (this.norm === 0) return 0.5;
    return Math.pow(2, (-this.pathLength(row, offset) * this.params.trees) / this.norm);
  }

  /**
   * Range-aware path length (Vigil's extension, in the spirit of the range check of SCiForest, Liu, Ting & Zhou,
   * ECML PKDD 2010). A plain forest scores a value far beyond the training range like the most extreme training
   * values on that side, because every split threshold lies inside the training range. Here, at a node whose split
   * feature's training range [lo, hi] does not contain the value, a threshold drawn uniformly over the range widened
   * to include it would cut the value off alone with probability p = distance / (hi - lo + distance): the walk then
   * ends one level down with probability p and goes on as usual otherwise, and the expected path length is taken.
   * Inside every range this is exactly the paper's path length.
   */
  rangeAwarePathLength(row: ArrayLike<number>, offset = 0): number {
    const { feature, left, roots, low, high } = this.arrays;
    const walk = this.walk;
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      let depth = 0;
      let survive = 1;
      let expected = 0;
      while (f >= 0) {
        const x = row[offset + f]!;
        const out = x < low[n]! ? low[n]! - x : x > high[n]! ? x - high[n]! : 0;
        if (out > 0) {
          const p = out / (high[n]! - low[n]! + out);
          expected += survive * p * (depth + 1);
          survive *= 1 - p;
        }
        n = x <= walk[n]! ? left[n]! : left[n]! + 1;
        f = feature[n]!;
        depth++;
      }
      sum += expected + survive * walk[n]!;
    }
    return sum / roots.length;
  }

  /** The anomaly score from the range-aware path length (see there); equal to `scoreRow` inside the training ranges. */
  scoreRowRangeAware(row: ArrayLike<number>, offset = 0): number {
    if (this.norm === 0) return 0.5;
    return Math.pow(2, (-this.rangeAwarePathLength(row, offset) * this.params.trees) / this.norm);
  }

  /**
   * Which features isolated this row. Every split on the row's path narrows the samples around it from `size(node)`
   * to `size(child)`: that is log2(size(node) / size(child)) bits of isolation, credited to the split's feature and
   * summed over the trees. A feature on which the row sits far from the rest cuts it off in one split worth many bits;
   * features split on at random along the way earn about one bit each. A value outside a node's range (see
   * `rangeAwarePathLength`) is cut off alone with probability p, worth log2(size(node)) bits. Shares sum to 1 (all 0
   * when nothing split).
   */
  contributions(row: ArrayLike<number>, offset = 0): Float64Array {
    const { feature, left, roots, size, low, high } = this.arrays;
    const walk = this.walk;
    const credit = new Float64Array(this.params.features);
    for (let t = 0; t < roots.length; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      let survive = 1;
      while (f >= 0) {
        const x = row[offset + f]!;
        const next = x <= walk[n]! ? left[n]! : left[n]! + 1;
        const out = x < low[n]! ? low[n]! - x : x > high[n]! ? x - high[n]! : 0;
        const p = out > 0 ? out / (high[n]! - low[n]! + out) : 0;
        credit[f] = credit[f]! + survive * (p * Math.log2(size[n]!) + (1 - p) * Math.log2(size[n]! / size[next]!));
        survive *= 1 - p;
        n = next;
        f = feature[n]!;
      }
    }
    let total = 0;
    for (const c of credit) total += c;
    if (total > 0) for (let i = 0; i < credit.length; i++) credit[i] = credit[i]! / total;
    return credit;
  }

  private checkShape(m: Matrix): void {
    if (m.cols !== this.params.features) {
      throw new VigilError('bad_request', `the model expects ${this.params.features} features per row, got ${m.cols}`);
    }
  }
}

/** Rows scored together: their ranks (BLOCK * features int32) stay in the first-level cache while every tree walks them. */
const BLOCK = 256;

interface BatchLayout {
  /** Per node: [next node * 4, feature, threshold rank, unused]; a leaf points to itself with rank 2^31 - 1. */
  packed: Int32Array;
  /** Per node: depth + c(size) for a leaf. */
  leafValue: Float64Array;
  /** Per tree: the depth of its deepest leaf, the number of steps every walk takes. */
  height: Int32Array;
  /** Per feature: the forest's distinct split thresholds on it, ascending. */
  cuts: Float64Array[];
  /**
   * Per feature: bucket b of [first cut, last cut], as floor((x - first) * scale), holds cuts[table[b] .. table[b+1]).
   * The bucket formula is monotone in x, so every cut in an earlier bucket is below x and every later one above.
   */
  buckets: Int32Array[];
  scales: Float64Array;
}

function buildBatchLayout(p: ForestParams, a: ForestArrays, walk: Float64Array): BatchLayout {
  const n = a.feature.length;
  const counts = new Int32Array(p.features);
  for (let i = 0; i < n; i++) if (a.feature[i]! >= 0) counts[a.feature[i]!]!++;
  const cuts = Array.from(counts, (count) => new Float64Array(count));
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const f = a.feature[i]!;
    if (f >= 0) cuts[f]![counts[f]!++] = a.threshold[i]!;
  }
  for (let f = 0; f < p.features; f++) {
    // Ascending, duplicates dropped.
    const c = cuts[f]!.sort();
    let w = 0;
    for (let i = 0; i < c.length; i++) if (w === 0 || c[i] !== c[w - 1]) c[w++] = c[i]!;
    cuts[f] = c.subarray(0, w);
  }
  const packed = new Int32Array(n * 4);
  const leafValue = new Float64Array(n);
  const depth = new Int32Array(n);
  const height = new Int32Array(p.trees);
  for (let t = 0; t < p.trees; t++) {
    const first = a.roots[t]!;
    const end = t + 1 < p.trees ? a.roots[t + 1]! : n;
    let deepest = 0;
    for (let i = first; i < end; i++) {
      const f = a.feature[i]!;
      if (f < 0) {
        packed[4 * i] = 4 * i;
        packed[4 * i + 1] = 0;
        packed[4 * i + 2] = 0x7fffffff;
        leafValue[i] = walk[i]!;
        if (depth[i]! > deepest) deepest = depth[i]!;
        continue;
      }
      const l = a.left[i]!;
      depth[l] = depth[i]! + 1;
      depth[l + 1] = depth[i]! + 1;
      const c = cuts[f]!;
      let lo = 0;
      let hi = c.length;
      const x = a.threshold[i]!;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (c[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      packed[4 * i] = 4 * l;
      packed[4 * i + 1] = f;
      packed[4 * i + 2] = lo;
    }
    height[t] = deepest;
  }
  const buckets: Int32Array[] = [];
  const scales = new Float64Array(p.features);
  for (let f = 0; f < p.features; f++) {
    const c = cuts[f]!;
    const n = c.length;
    const span = n > 0 ? c[n - 1]! - c[0]! : 0;
    const nb = Math.max(1, Math.min(1 << 16, 2 * n));
    const scale = span > 0 ? nb / span : 0;
    scales[f] = scale;
    // table[b] = cuts in buckets before b; one extra bucket past the end holds the clamped top.
    const table = new Int32Array(nb + 2);
    for (let i = 0; i < n; i++) {
      let b = Math.floor((c[i]! - c[0]!) * scale);
      b = b < 0 ? 0 : b > nb ? nb : b;
      table[b + 1]!++;
    }
    for (let b = 1; b < table.length; b++) table[b] = table[b]! + table[b - 1]!;
    buckets.push(table);
  }
  return { packed, leafValue, height, cuts, buckets, scales };
}

function start(m: Matrix, options: ForestOptions) {
  const opts = checkOptions(options);
  if (m.rows < 1) throw new VigilError('bad_request', 'cannot fit an Isolation Forest on no rows');
  if (m.cols < 1) throw new VigilError('bad_request', 'cannot fit an Isolation Forest without features');
  assertFinite(m, 'cannot fit');
  const nodes = new NodeBuffer();
  const roots = new Int32Array(opts.trees);
  const gen = opts.rng === 'sklearn' ? growSklearn(m, opts.trees, opts.sampleSize, opts.seed, nodes, roots) : grow(m, opts, nodes, roots);
  return { opts, nodes, roots, gen };
}

function finish(m: Matrix, opts: Required<ForestOptions>, nodes: NodeBuffer, roots: Int32Array): IsolationForest {
  const psi = Math.min(opts.sampleSize, m.rows);
  const params: ForestParams = {
    trees: opts.trees,
    sampleSize: psi,
    seed: opts.seed,
    features: m.cols,
    maxDepth: Math.ceil(Math.log2(Math.max(psi, 2))),
    trainingRows: m.rows,
  };
  const n = nodes.length;
  return new IsolationForest(params, {
    roots,
    feature: nodes.feature.slice(0, n),
    threshold: nodes.threshold.slice(0, n),
    left: nodes.left.slice(0, n),
    size: nodes.size.slice(0, n),
    low: nodes.low.slice(0, n),
    high: nodes.high.slice(0, n),
  });
}

function corrupt(message: string): VigilError {
  return new VigilError('bad_request', `invalid Isolation Forest model: ${message}`);
}

/**
 * Checks that the arrays form `trees` well-formed trees (every child after its parent and inside its tree, each node
 * reached once, sizes adding up, depth within the limit, finite thresholds) and returns the scoring array. A model
 * read from disk goes through here, so a damaged file fails with a clear error instead of looping or mis-scoring.
 */
function validate(p: ForestParams, a: ForestArrays): Float64Array {
  const intIn = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
  if (!intIn(p.trees, 1, MAX_TREES)) throw corrupt(`trees must be an integer from 1 to ${MAX_TREES}`);
  if (!intIn(p.sampleSize, 1, 2 ** 31 - 1)) throw corrupt('sampleSize must be a positive integer');
  if (!intIn(p.features, 1, 1_000_000)) throw corrupt('features must be a positive integer');
  if (!intIn(p.seed, 0, 0xffffffff)) throw corrupt('seed must be an unsigned 32-bit integer');
  if (!intIn(p.trainingRows, p.sampleSize, Number.MAX_SAFE_INTEGER)) throw corrupt('trainingRows must be at least sampleSize');
  if (p.maxDepth !== Math.ceil(Math.log2(Math.max(p.sampleSize, 2)))) throw corrupt('maxDepth does not match sampleSize');
  const n = a.feature.length;
  if (a.roots.length !== p.trees) throw corrupt(`${a.roots.length} roots for ${p.trees} trees`);
  if (a.threshold.length !== n || a.left.length !== n || a.size.length !== n || a.low.length !== n || a.high.length !== n) throw corrupt('node arrays differ in length');
  if (n > p.trees * (2 * p.sampleSize - 1)) throw corrupt('more nodes than trees of this sample size can have');
  const walk = new Float64Array(n);
  const depth = new Int32Array(n);
  const parents = new Uint8Array(n);
  for (let t = 0; t < p.trees; t++) {
    const first = a.roots[t]!;
    const end = t + 1 < p.trees ? a.roots[t + 1]! : n;
    if (t === 0 && first !== 0) throw corrupt('the first tree must start at node 0');
    if (!(first < end) || end > n) throw corrupt(`tree ${t} has no nodes or runs past the arrays`);
    if (a.size[first] !== p.sampleSize) throw corrupt(`tree ${t} root holds ${a.size[first]} samples, expected ${p.sampleSize}`);
    for (let i = first; i < end; i++) {
      if (i === first ? parents[i] !== 0 : parents[i] !== 1) throw corrupt(`node ${i} of tree ${t} is not reached exactly once`);
      const f = a.feature[i]!;
      const size = a.size[i]!;
      if (size < 1) throw corrupt(`node ${i} holds no samples`);
      if (f === -1) {
        if (a.left[i] !== -1) throw corrupt(`leaf ${i} has children`);
        walk[i] = depth[i]! + averagePathLength(size);
        continue;
      }
      if (!(f >= 0 && f < p.features)) throw corrupt(`node ${i} splits on feature ${f} of ${p.features}`);
      const threshold = a.threshold[i]!;
      if (!Number.isFinite(threshold)) throw corrupt(`node ${i} has a non-finite threshold`);
      if (!(a.low[i]! <= threshold && threshold < a.high[i]!)) throw corrupt(`node ${i} has a threshold outside its range`);
      const l = a.left[i]!;
      if (!(l > i && l + 1 < end)) throw corrupt(`node ${i} has children outside its tree`);
      if (parents[l] !== 0 || parents[l + 1] !== 0) throw corrupt(`node ${l} has two parents`);
      parents[l] = 1;
      parents[l + 1] = 1;
      if (a.size[l]! + a.size[l + 1]! !== size) throw corrupt(`the children of node ${i} do not hold its ${size} samples`);
      const d = depth[i]! + 1;
      if (d > p.maxDepth) throw corrupt(`node ${i} is deeper than the height limit ${p.maxDepth}`);
      depth[l] = d;
      depth[l + 1] = d;
      walk[i] = threshold;
    }
  }
  return walk;
}
