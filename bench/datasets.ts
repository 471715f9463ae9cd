// Where benchmarks find the real public data: ../shared/datasets beside the checkout, or $VIGIL_DATASETS.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export function datasetsRoot(): string {
  const root = process.env.VIGIL_DATASETS ?? resolve(fileURLToPath(new URL('../..', import.meta.url)), 'shared/datasets');
  if (!existsSync(root)) {
    console.error(`benchmarks need the public datasets: not found at ${root}. Set VIGIL_DATASETS to their folder.`);
    process.exit(2);
  }
  return root;
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
