// Growing trees exactly as scikit-learn 1.2 does for IsolationForest(random_state=seed): the same sub-samples, the
// same random splitter (sklearn/tree/_splitter.pyx, node_split_random: features drawn from a permutation kept across
// the nodes of a tree, constant ones moved to the front and remembered for the children, FEATURE_THRESHOLD 1e-7, a
// threshold of (max - min) * r / RAND_R_MAX + min), depth-first with the left child first, on values read as float32.
// With the same seed the forests agree tree for tree, so Vigil's scores can be checked against scikit-learn's.
import type { Matrix } from './matrix.js';
import type { NodeBuffer } from './nodes.js';
import { SklearnRandR, sklearnTreeSeeds } from './sklearn-random.js';

/** Below this spread scikit-learn takes a feature as constant in a node. */
const FEATURE_THRESHOLD = 1e-7;

export function* growSklearn(m: Matrix, trees: number, sampleSize: number, seed: number, nodes: NodeBuffer, roots: Int32Array): Generator<number, void> {
  const { data, rows, cols } = m;
  const psi = Math.min(sampleSize, rows);
  const maxDepth = Math.ceil(Math.log2(Math.max(psi, 2)));
  const plan = sklearnTreeSeeds(seed, trees, rows, psi);
  const sample = new Float64Array(psi * cols);
  const idx = new Int32Array(psi);
  const features = new Int32Array(cols);
  const constants = new Int32Array(cols);
  // Stack entries: node, start, end, depth, known constant features.
  const stack: number[] = [];

  for (let t = 0; t < trees; t++) {
    const { sample: rowsOfTree, splitterSeed } = plan[t]!;
    const rr = new SklearnRandR(splitterSeed);
    for (let s = 0; s < psi; s++) {
      const base = rowsOfTree[s]! * cols;
      for (let f = 0; f < cols; f++) sample[f * psi + s] = Math.fround(data[base + f]!);
      idx[s] = s;
    }
    for (let f = 0; f < cols; f++) features[f] = f;
    nodes.reserve(2 * psi - 1);
    roots[t] = nodes.length;
    stack.length = 0;
    stack.push(nodes.add(psi), 0, psi, 0, 0);
    while (stack.length > 0) {
      const known = stack.pop()!;
      const depth = stack.pop()!;
      const end = stack.pop()!;
      const start = stack.pop()!;
      const node = stack.pop()!;
      if (depth >= maxDepth || end - start < 2) continue;
      let found = 0;
      let drawn = 0;
      let total = known;
      let visited = 0;
      let fi = cols;
      let chosen = -1;
      let lo = 0;
      let hi = 0;
      let threshold = 0;
      let pos = end;
      while (fi > total && (visited < 1 || visited <= found + drawn)) {
        visited++;
        let fj = rr.int(drawn, fi - found);
        if (fj < known) {
          const tmp = features[drawn]!;
          features[drawn] = features[fj]!;
          features[fj] = tmp;
          drawn++;
          continue;
        }
        fj += found;
        const f = features[fj]!;
        const off = f * psi;
        let min = sample[off + idx[start]!]!;
        let max = min;
        for (let i = start + 1; i < end; i++) {
          const v = sample[off + idx[i]!]!;
          if (v < min) min = v;
          else if (v > max) max = v;
        }
        if (max <= min + FEATURE_THRESHOLD) {
          features[fj] = features[total]!;
          features[total] = f;
          found++;
          total++;
          continue;
        }
        fi--;
        features[fj] = features[fi]!;
        features[fi] = f;
        threshold = rr.uniform(min, max);
        if (threshold === max) threshold = min;
        let i = start;
        let j = end;
        while (i < j) {
          if (sample[off + idx[i]!]! <= threshold) i++;
          else {
            j--;
            const tmp = idx[i]!;
            idx[i] = idx[j]!;
            idx[j] = tmp;
          }
        }
        pos = i;
        chosen = f;
        lo = min;
        hi = max;
      }
      // The splitter keeps the constant features at the front, in their order, for the children.
      for (let k = 0; k < known; k++) features[k] = constants[k]!;
      for (let k = known; k < known + found; k++) constants[k] = features[k]!;
      if (chosen < 0 || pos <= start || pos >= end) continue;
      const leftNode = nodes.add(pos - start);
      nodes.add(end - pos);
      nodes.feature[node] = chosen;
      nodes.threshold[node] = threshold;
      nodes.left[node] = leftNode;
      nodes.low[node] = lo;
      nodes.high[node] = hi;
      stack.push(leftNode + 1, pos, end, depth + 1, total);
      stack.push(leftNode, start, pos, depth + 1, total);
    }
    yield t;
  }
}
