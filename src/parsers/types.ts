// The contract every log-format parser implements: one raw line in, ECS fields or "not mine" out.
import type { EcsEvent } from '../core/event.js';

/** What a parser may need besides the line; built once per source, never per line. */
export interface ParseContext {
  /** Reference time in ms since the epoch, for formats that omit the year (RFC 3164). */
  now: number;
  /** Forces the year of year-less timestamps (replaying an old file). */
  year?: number;
}

/** The named fields of EcsEvent, without its index signature (which `Omit` would otherwise collapse everything into). */
type KnownEcsFields = { [K in keyof EcsEvent as string extends K ? never : K]: EcsEvent[K] };

/** The ECS fields a parser extracted. `event.id`, `event.original` and defaults are filled in later by the pipeline. */
export type ParsedFields = Partial<Omit<KnownEcsFields, 'event'>> & {
  event: Partial<EcsEvent['event']> & { dataset: string };
  [key: string]: unknown;
};

export type ParseOutcome = { ok: true; fields: ParsedFields } | { ok: false; reason: string };

export interface Parser {
  /** The name used in `?format=` and in configuration. */
  readonly name: string;
  /**
   * Parses one line (no trailing newline). Returns `undefined` when the line is not in this format,
   * so that `auto` can try the next parser; never throws for bad input.
   */
  parse(line: string, ctx: ParseContext): ParsedFields | undefined;
}
