// The random streams scikit-learn 1.2's IsolationForest draws from, so that a forest grown with `rng: 'sklearn'` and
// seed s is the forest `IsolationForest(random_state=s)` grows: numpy's legacy RandomState (MT19937 seeded with
// init_genrand, bounded integers by masked rejection, Fisher-Yates permutation), scikit-learn's
// sample_without_replacement (sklearn/utils/_random.pyx) and the xorshift `our_rand_r` of its tree splitters
// (sklearn/tree/_utils.pyx). Used to check Vigil's forest against scikit-learn tree for tree.

const N = 624;
const M = 397;

/** Mersenne Twister MT19937 (Matsumoto & Nishimura 1998), seeded like numpy's `RandomState(int)`. */
export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      this.mt[i] = s;
      // 1812433253 * (s ^ (s >>> 30)) + i + 1, modulo 2^32.
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i + 1) >>> 0;
    }
  }

  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % N]! & 0x7fffffff);
        mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** An integer in [0, max] (max < 2^32) by masked rejection, as numpy's legacy bounded integers and random_interval. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= max) return v;
    }
  }

  /** `randint(high)`: an integer in [0, high). */
  randint(high: number): number {
    return this.interval(high - 1);
  }

  /** `permutation(n)`: Fisher-Yates from the end, as numpy's shuffle. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i >= 1; i--) {
      const j = this.interval(i);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}

/** scikit-learn's sample_without_replacement(n_population, n_samples, method="auto"). */
export function sampleWithoutReplacement(population: number, samples: number, rs: NumpyRandomState): Int32Array {
  const ratio = population === 0 ? 1 : samples / population;
  if (ratio > 0.01 && ratio < 0.99) return rs.permutation(population).subarray(0, samples);
  const out = new Int32Array(samples);
  if (ratio < 0.2) {
    // Tracking selection: draw until unseen.
    const selected = new Set<number>();
    for (let i = 0; i < samples; i++) {
      let j = rs.randint(population);
      while (selected.has(j)) j = rs.randint(population);
      selected.add(j);
      out[i] = j;
    }
    return out;
  }
  // Reservoir sampling.
  for (let i = 0; i < samples; i++) out[i] = i;
  for (let i = samples; i < population; i++) {
    const j = rs.interval(i);
    if (j < samples) out[j] = i;
  }
  return out;
}

export const RAND_R_MAX = 0x7fffffff;
const MAX_INT32 = 0x7fffffff;

/** scikit-learn's `our_rand_r`: a 32-bit xorshift, reduced to [0, RAND_R_MAX]. */
export class SklearnRandR {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let s = this.state;
    if (s === 0) s = 1; // DEFAULT_SEED
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.state = s;
    return s & RAND_R_MAX;
  }

  /** rand_int(low, high): low + r % (high - low). */
  int(low: number, high: number): number {
    return low + (this.next() % (high - low));
  }

  /** rand_uniform(low, high): (high - low) * r / RAND_R_MAX + low. */
  uniform(low: number, high: number): number {
    return ((high - low) * this.next()) / RAND_R_MAX + low;
  }
}

/**
 * The per-tree draws of a scikit-learn IsolationForest seeded with `seed`: for each tree, its sub-sample (sorted, as
 * the splitter sees the rows of non-zero weight) and the seed of its splitter's rand_r.
 */
export function sklearnTreeSeeds(seed: number, trees: number, rows: number, sampleSize: number): { sample: Int32Array; splitterSeed: number }[] {
  const bagging = new NumpyRandomState(seed);
  const seeds: number[] = [];
  for (let t = 0; t < trees; t++) seeds.push(bagging.randint(MAX_INT32));
  return seeds.map((s) => {
    // _set_random_states: the tree's random_state is one draw from RandomState(seeds[i]) ...
    const treeSeed = new NumpyRandomState(s).randint(MAX_INT32);
    // ... and its splitter's rand_r seed one draw from RandomState(tree_seed).
    const splitterSeed = new NumpyRandomState(treeSeed).randint(RAND_R_MAX);
    // _generate_bagging_indices: features (all of them: no draws), then the rows, from RandomState(seeds[i]).
    const sample = Int32Array.from(sampleWithoutReplacement(rows, sampleSize, new NumpyRandomState(s))).sort();
    return { sample, splitterSeed };
  });
}
