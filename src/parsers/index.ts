// The parsers Vigil knows, by format name (`?format=`, configuration), and the one entry the pipeline calls:
// parseLine. Adding a format is one folder plus one line in `parsers` below.
import { apacheParser, nginxParser } from './access-log/access-log.js';
import { autoParser } from './auto/auto.js';
import { stripLineEnd } from './common/line.js';
import { jsonParser, parseJsonLine } from './json/json.js';
import { sshdParser } from './sshd/auth-log.js';
import { syslogParser } from './syslog/syslog.js';
import type { ParseContext, ParseOutcome, Parser } from './types.js';

export type { ParseContext, ParseOutcome, ParsedFields, Parser } from './types.js';

export const parsers: Record<string, Parser> = {
  auto: autoParser,
  syslog: syslogParser,
  sshd: sshdParser,
  nginx: nginxParser,
  apache: apacheParser,
  json: jsonParser,
};

/** The reason each format gives for a line it does not read (bounded: these strings are metric labels). */
const NOT_MINE: Record<string, string> = {
  auto: 'no parser matched',
  syslog: 'not a syslog line',
  sshd: 'not an auth log line',
  nginx: 'not an access log line',
  apache: 'not an access log line',
  json: 'invalid JSON',
};

/** True when `name` is a format `parseLine` accepts. */
export function isFormat(name: string): boolean {
  return Object.hasOwn(parsers, name);
}

/**
 * Parses one line (without its newline; a trailing `\r` is ignored, and a line wrapped in an extra pair of
 * double quotes is unwrapped) in `format`. Never throws: a line no parser reads gives `{ ok: false, reason }`.
 */
export function parseLine(line: string, format: string, ctx: ParseContext): ParseOutcome {
  if (!isFormat(format)) return { ok: false, reason: 'unknown format' };
  const text = stripLineEnd(line);
  if (text.trim().length === 0) return { ok: false, reason: 'empty line' };
  if (format === 'json') {
    try {
      const result = parseJsonLine(text);
      return typeof result === 'string' ? { ok: false, reason: result } : { ok: true, fields: result };
    } catch {
      return { ok: false, reason: 'invalid JSON' };
    }
  }
  const fields = parsers[format]!.parse(text, ctx);
  return fields === undefined ? { ok: false, reason: NOT_MINE[format]! } : { ok: true, fields };
}
