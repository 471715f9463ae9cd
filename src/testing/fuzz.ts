// How many cases a property test runs: its own count in `npm test`, times VIGIL_FUZZ_SCALE in `npm run fuzz`.
export function runs(cases: number): number {
  const scale = Number(process.env.VIGIL_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(cases * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
