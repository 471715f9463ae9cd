// How much of real logs the parsers understand: per file, the share of lines that land in their specific
// dataset with source address, user, status and URL extracted (where the line has one, judged by simple
// checks independent of the parsers), and parse throughput next to a loop that only splits the lines.
// Run: node --import tsx bench/parse-shares.ts [--misses] (datasets from ../shared/datasets or $VIGIL_DATASETS).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getField } from '../src/core/event.js';
import { parseLine } from '../src/parsers/index.js';
import type { ParseContext, ParsedFields } from '../src/parsers/index.js';

export interface ShareRow {
  file: string;
  /** Format the lines were parsed with. */
  format: string;
  /** Lines counted (for auth.log: sshd lines only; comment and blank lines never). */
  lines: number;
  /** The dataset those lines should land in. */
  dataset: string;
  /** Share (0-1) of lines in `dataset`. */
  inDataset: number;
  /** Share of lines naming a source address (IP literal, or a host name in `rhost=`) with source.ip or source.domain set. */
  withIp: number | null;
  /** Share of lines naming a user with user.name set. */
  withUser: number | null;
  /** Share of access lines with http.response.status_code set. */
  withStatus: number | null;
  /** Share of access lines with a request target that have url.original set. */
  withUrl: number | null;
  /** Denominators of the shares above. */
  expected: { ip: number; user: number; status: number; url: number };
  /** Lines that missed (first few), to see why. */
  misses: string[];
  /** Lines per second through parseLine, and through a loop that only splits the lines. */
  parseRate: number;
  splitRate: number;
}

interface FileSpec {
  file: string;
  format: string;
  dataset: string;
  kind: 'sshd' | 'access';
  /** Which lines count. */
  select: (line: string) => boolean;
  year?: number;
}

const SSHD_TAG = /^(?:<\d+>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ sshd\[\d+\]: /;

const SPECS: readonly FileSpec[] = [
  { file: 'loghub/OpenSSH/OpenSSH_2k.log', format: 'auto', dataset: 'sshd', kind: 'sshd', select: (l) => l.length > 0 },
  { file: 'auth-ssh/elastic-examples_auth.log', format: 'auto', dataset: 'sshd', kind: 'sshd', select: (l) => SSHD_TAG.test(l), year: 2017 },
  { file: 'auth-ssh/fail2ban/sshd.log', format: 'auto', dataset: 'sshd', kind: 'sshd', select: (l) => l.length > 0 && !l.startsWith('#') },
  { file: 'web-access/elastic-examples_apache_access.log', format: 'apache', dataset: 'apache.access', kind: 'access', select: (l) => l.length > 0 },
  { file: 'web-access/scanner-logs/acunetix.txt', format: 'apache', dataset: 'apache.access', kind: 'access', select: (l) => l.length > 0 },
  { file: 'web-access/scanner-logs/netsparker.txt', format: 'apache', dataset: 'apache.access', kind: 'access', select: (l) => l.length > 0 },
];

// --- What a line has, judged without the parsers -------------------------------------------------------

/** The syslog message part: everything after the first `: ` that follows the tag. */
function sshdMessage(line: string): string {
  const m = /(?:sshd(?:-session)?(?:\[\d+\])?:?|\[sshd\]:?|sshd \d+ - (?:-|\[.*\])) /.exec(line);
  return m === null ? line : line.slice(m.index + m[0].length);
}

function hasAddress(message: string): boolean {
  if (message.startsWith('Server listening on')) return false;
  if (/rhost=[^\s]/.test(message)) return true;
  for (const raw of message.split(/[\s[\]()=,@'";]+/)) {
    const token = raw.replace(/[:.]+$/, '').replace(/-\d+$/, '');
    if (token.length >= 2 && isIP(token) !== 0 && !/^\d+$/.test(token)) return true;
  }
  return false;
}

// Phrases that put a user name in an sshd/PAM message (`for root from`, `invalid user x`, `user=x`, …).
const NAMES_USER = new RegExp([
  String.raw`(?:for|from|invalid|illegal|authenticating|session:) user [^\s[]`,
  String.raw`\b(?:user|ruser)=\S`,
  String.raw`\bUser \S+ (?:from|not allowed)`,
  String.raw`\bfor (?!invalid user |illegal user |connection |\d)[^\s[]\S* (?:from|\[preauth\])`,
  String.raw`failures for \S`,
].join('|'));

function hasUser(message: string): boolean {
  // A disconnect reason is free text (`Thank you for playing`); only `disconnected by user X` names a user.
  if (/^(?:error: )?Received disconnect/.test(message)) return /disconnected by user [^\s[]/.test(message);
  return NAMES_USER.test(message);
}

// ---------------------------------------------------------------------------------------------------------

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function present(fields: ParsedFields, path: string): boolean {
  const v = getField(fields as Record<string, unknown>, path);
  return v !== undefined && v !== null && v !== '';
}

function rate(run: () => number, minMs = 300): number {
  let lines = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    lines += run();
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  } while (elapsed < minMs);
  return (lines / elapsed) * 1000;
}

function measureFile(root: string, spec: FileSpec, keepMisses: number): ShareRow {
  const text = readFileSync(join(root, spec.file), 'utf8');
  const ctx: ParseContext = { now: Date.parse('2024-06-01T00:00:00Z'), ...(spec.year !== undefined ? { year: spec.year } : {}) };
  const all = splitLines(text);
  const row: ShareRow = {
    file: spec.file, format: spec.format, lines: 0, dataset: spec.dataset, inDataset: 0,
    withIp: null, withUser: null, withStatus: null, withUrl: null,
    expected: { ip: 0, user: 0, status: 0, url: 0 }, misses: [], parseRate: 0, splitRate: 0,
  };
  let inDataset = 0;
  const got = { ip: 0, user: 0, status: 0, url: 0 };
  const miss = (why: string, line: string): void => {
    if (row.misses.length < keepMisses) row.misses.push(`${why}: ${line.slice(0, 220)}`);
  };
  for (const raw of all) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!spec.select(line)) continue;
    row.lines++;
    const outcome = parseLine(line, spec.format, ctx);
    const fields = outcome.ok ? outcome.fields : undefined;
    if (fields?.event.dataset === spec.dataset) inDataset++;
    else miss(`dataset ${fields?.event.dataset ?? (outcome.ok ? '?' : outcome.reason)}`, line);
    if (spec.kind === 'sshd') {
      const message = sshdMessage(line);
      if (hasAddress(message)) {
        row.expected.ip++;
        if (fields !== undefined && (present(fields, 'source.ip') || present(fields, 'source.domain'))) got.ip++;
        else miss('ip', line);
      }
      if (hasUser(message)) {
        row.expected.user++;
        if (fields !== undefined && present(fields, 'user.name')) got.user++;
        else miss('user', line);
      }
    } else {
      const unwrapped = line.startsWith('"') && line.endsWith('"') ? line.slice(1, -1) : line;
      const first = unwrapped.slice(0, unwrapped.indexOf(' '));
      if (isIP(first) !== 0) {
        row.expected.ip++;
        if (fields !== undefined && present(fields, 'source.ip')) got.ip++;
        else miss('ip', line);
      }
      const head = unwrapped.split(' ', 3);
      if (head[2] !== undefined && head[2] !== '-') {
        row.expected.user++;
        if (fields !== undefined && present(fields, 'user.name')) got.user++;
        else miss('user', line);
      }
      row.expected.status++;
      if (fields !== undefined && present(fields, 'http.response.status_code')) got.status++;
      else miss('status', line);
      if (/\] "[A-Za-z]+ \S/.test(unwrapped)) {
        row.expected.url++;
        if (fields !== undefined && present(fields, 'url.original')) got.url++;
        else miss('url', line);
      }
    }
  }
  const share = (n: number, of: number): number | null => (of === 0 ? null : n / of);
  row.inDataset = row.lines === 0 ? 0 : inDataset / row.lines;
  row.withIp = share(got.ip, row.expected.ip);
  row.withUser = share(got.user, row.expected.user);
  row.withStatus = share(got.status, row.expected.status);
  row.withUrl = share(got.url, row.expected.url);

  // Throughput over the whole file (every line, as an ingest would see it).
  let sink = 0;
  row.splitRate = rate(() => {
    const lines = splitLines(text);
    for (const l of lines) sink += l.length;
    return lines.length;
  });
  row.parseRate = rate(() => {
    const lines = splitLines(text);
    for (const l of lines) if (parseLine(l, spec.format, ctx).ok) sink++;
    return lines.length;
  });
  if (sink === -1) console.log('');
  return row;
}

/** Measures every file; rows carry shares in 0-1 (null where no line has the field). */
export async function measureParseShares(datasetsRoot: string, keepMisses = 0): Promise<ShareRow[]> {
  return SPECS.map((spec) => measureFile(datasetsRoot, spec, keepMisses));
}

/**
 * Agreement with fail2ban's labels: for each `# failJSON: {"match": true, "host": H}` line of sshd.log whose
 * log line contains H, whether source.ip (or source.domain) is H. Lines without the address are skipped:
 * fail2ban attributes those through earlier lines of the same session, which a line parser cannot.
 */
export function measureFail2banAgreement(datasetsRoot: string): { labelled: number; agree: number; disagree: string[] } {
  const lines = readFileSync(join(datasetsRoot, 'auth-ssh/fail2ban/sshd.log'), 'utf8').split('\n');
  const ctx: ParseContext = { now: Date.parse('2024-06-01T00:00:00Z') };
  const result = { labelled: 0, agree: 0, disagree: [] as string[] };
  let host: string | undefined;
  for (const line of lines) {
    if (line.startsWith('# failJSON:')) {
      try {
        const label = JSON.parse(line.slice(11)) as { match?: boolean; host?: string };
        host = label.match === true ? label.host : undefined;
      } catch {
        host = undefined;
      }
      continue;
    }
    if (line.length === 0 || line.startsWith('#')) continue;
    const want = host;
    host = undefined;
    if (want === undefined || !line.includes(want)) continue;
    result.labelled++;
    const outcome = parseLine(line, 'auto', ctx);
    const source = outcome.ok ? outcome.fields.source : undefined;
    const got = source?.ip ?? source?.domain ?? source?.address;
    if (got === want || got === want.replace(/^::ffff:/, '')) result.agree++;
    else result.disagree.push(`${want} -> ${String(got)}: ${line.slice(0, 160)}`);
  }
  return result;
}

function pct(v: number | null): string {
  return v === null ? '-' : `${(v * 100).toFixed(2)}%`;
}

async function main(): Promise<void> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = process.env['VIGIL_DATASETS'] ?? resolve(here, '../../shared/datasets');
  const showMisses = process.argv.includes('--misses');
  const rows = await measureParseShares(root, showMisses ? 40 : 0);
  const header = ['file', 'format', 'lines', 'dataset', 'in dataset', 'src addr', 'user', 'status', 'url', 'parse lines/s', 'split-only lines/s', 'parse cost'];
  const table = rows.map((r) => [
    r.file, r.format, String(r.lines), r.dataset, pct(r.inDataset),
    `${pct(r.withIp)} (${r.expected.ip})`, `${pct(r.withUser)} (${r.expected.user})`,
    r.expected.status ? `${pct(r.withStatus)} (${r.expected.status})` : '-',
    r.expected.url ? `${pct(r.withUrl)} (${r.expected.url})` : '-',
    Math.round(r.parseRate).toLocaleString('en-US'), Math.round(r.splitRate).toLocaleString('en-US'),
    `${(r.splitRate / r.parseRate).toFixed(0)}x split`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(fmt(header));
  for (const row of table) console.log(fmt(row));
  console.log('(src addr/user/status/url: share of the lines that have one, their count in parentheses;');
  console.log(' parse cost: time per line of parseLine as a multiple of the split-only loop)');
  const f2b = measureFail2banAgreement(root);
  console.log(`fail2ban sshd.log labelled attackers: source address agrees on ${f2b.agree}/${f2b.labelled} lines that contain it`);
  if (showMisses) for (const d of f2b.disagree) console.log(`  ${d}`);
  if (showMisses) {
    for (const r of rows) {
      if (r.misses.length === 0) continue;
      console.log(`\n${r.file}:`);
      for (const m of r.misses) console.log(`  ${m}`);
    }
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
