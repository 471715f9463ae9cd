// Regular expressions of `|re` values run on RE2 (the `re2` package, built from source at install): matching time
// is linear in the input, so attacker-controlled log lines cannot stall detection with catastrophic backtracking.
// If the native module is missing, `re` rules are refused with that reason and every other rule keeps working.
import { createRequire } from 'node:module';

export interface LinearRegex {
  test(text: string): boolean;
}

type Re2Constructor = new (pattern: string, flags?: string) => LinearRegex;

let engine: Re2Constructor | Error | undefined;

function load(): Re2Constructor | Error {
  if (engine === undefined) {
    try {
      engine = createRequire(import.meta.url)('re2') as Re2Constructor;
    } catch (err) {
      engine = new Error(`the linear-time regex engine (re2) is not installed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return engine;
}

/**
 * Compiles a Sigma `re` value with RE2. Flags: `i`, `m`, `s` (Sigma's re sub-modifiers). Returns the reason when
 * RE2 cannot run it (backreferences and lookaround need backtracking, which RE2 refuses by design).
 */
export function compileRegex(source: string, flags: string): LinearRegex | string {
  const RE2 = load();
  if (RE2 instanceof Error) return RE2.message;
  try {
    return new RE2(source, flags);
  } catch (err) {
    return `regular expression ${JSON.stringify(source.slice(0, 80))} cannot run in linear time (RE2): ${(err as Error).message}`;
  }
}
