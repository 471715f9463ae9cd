// The `sshd` format: lines of an auth.log (syslog-framed sshd, sudo, su, PAM and account-tool records, each
// read by its program's parser), and bare sshd messages without a syslog header (`journalctl -o cat`).
import { prepareLine } from '../common/line.js';
import { parseSyslog } from '../syslog/syslog.js';
import type { ParseContext, ParsedFields, Parser } from '../types.js';
import { parseSshdMessage } from './messages.js';

/** Parses an auth.log line, or a bare sshd message that this parser recognises; undefined otherwise. */
export function parseAuthLine(line: string, ctx: ParseContext): ParsedFields | undefined {
  const text = prepareLine(line);
  const framed = parseSyslog(text, ctx);
  if (framed !== undefined) return framed;
  const fields: ParsedFields = { event: { dataset: 'sshd' }, message: text, process: { name: 'sshd' } };
  parseSshdMessage(text, fields);
  return fields.event.action !== undefined ? fields : undefined;
}

export const sshdParser: Parser = {
  name: 'sshd',
  parse(line, ctx) {
    try {
      return parseAuthLine(line, ctx);
    } catch {
      // Defensive: a parser bug must cost one line, not the pipeline.
      return undefined;
    }
  },
};
