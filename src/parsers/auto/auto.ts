// The `auto` format: JSON when the line starts with `{`, else a common/combined access log line (dataset
// `nginx.access`: the two servers write the same layout, and nginx is the likelier sender), else syslog
// (whose program parsers cover auth.log). The access-log test fails within the first bytes of a syslog line.
import { parseClf } from '../access-log/clf.js';
import { prepareLine } from '../common/line.js';
import { parseJsonLine } from '../json/json.js';
import { parseSyslog } from '../syslog/syslog.js';
import type { ParseContext, ParsedFields, Parser } from '../types.js';

/** Tries each format in turn; undefined when none reads the line. */
export function parseAuto(line: string, ctx: ParseContext): ParsedFields | undefined {
  const text = prepareLine(line);
  if (text.charCodeAt(0) === 123 /* { */) {
    const result = parseJsonLine(text);
    return typeof result === 'string' ? undefined : result;
  }
  return parseClf(text, 'nginx.access') ?? parseSyslog(text, ctx);
}

export const autoParser: Parser = {
  name: 'auto',
  parse(line, ctx) {
    try {
      return parseAuto(line, ctx);
    } catch {
      // Defensive: a parser bug must cost one line, not the pipeline.
      return undefined;
    }
  },
};
