// The `nginx` and `apache` formats: common/combined access log lines (./clf.ts) and, for lines that start
// with `{`, nginx JSON access records (./json-access.ts). Both read the same layouts; only the dataset differs.
import { prepareLine } from '../common/line.js';
import { parseJsonLine } from '../json/json.js';
import type { ParsedFields, Parser } from '../types.js';
import { parseClf } from './clf.js';

/** Parses an access log line (text or JSON) into `dataset`, or undefined. */
export function parseAccessLine(line: string, dataset: string): ParsedFields | undefined {
  const text = prepareLine(line);
  if (text.charCodeAt(0) === 123 /* { */) {
    const result = parseJsonLine(text, dataset);
    return typeof result !== 'string' && result.event.dataset === dataset ? result : undefined;
  }
  return parseClf(text, dataset);
}

function accessParser(name: string, dataset: string): Parser {
  return {
    name,
    parse(line) {
      try {
        return parseAccessLine(line, dataset);
      } catch {
        // Defensive: a parser bug must cost one line, not the pipeline.
        return undefined;
      }
    },
  };
}

/** The `nginx` format (dataset `nginx.access`). */
export const nginxParser: Parser = accessParser('nginx', 'nginx.access');
/** The `apache` format (dataset `apache.access`). */
export const apacheParser: Parser = accessParser('apache', 'apache.access');
