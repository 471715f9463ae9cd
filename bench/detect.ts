// `npm run bench:detect`: how well the web attack detectors (src/detect/web) work on public labelled data —
// detection rates on attack corpora, false-positive rates on benign ones, per-class rates on the OWASP CRS
// regression tests, and throughput next to a bare decode loop. Every labelled set is split in two halves by a hash
// of the input: rules were tuned looking at the first half only, so the second half is a held-out check.
// Run: node --import tsx bench/detect.ts [--json] [--misses] (datasets from ../shared/datasets or $VIGIL_DATASETS).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { webDetectors } from '../src/detect/web/index.js';
import type { WebDetectorName } from '../src/detect/web/index.js';
import { parseLine } from '../src/parsers/index.js';
import { datasetsRoot, median } from './datasets.js';

type Detector = WebDetectorName;
const DETECTORS = Object.keys(webDetectors) as Detector[];

/**
 * Which access-log parts each detector looks at, as the rules in rules/web do
 * (query = cs-uri-query, path = cs-uri-stem, ua = cs-user-agent).
 */
const RULE_FIELDS: Record<Detector, ReadonlyArray<'query' | 'path' | 'ua'>> = {
  sqli: ['query'],
  xss: ['query'],
  traversal: ['query', 'path'],
  cmdi: ['query'],
  lfi: ['query', 'path'],
  rfi: ['query'],
  jndi: ['query', 'path', 'ua'],
  scanner: ['ua'],
};

/** One input: a bare value, or the parts of an HTTP request. */
interface Sample {
  key: string;
  value?: string;
  request?: { query: string; path: string; ua: string };
}

/** FNV-1a: a stable hash to split each set into a tuning half and a held-out half. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function heldOut(sample: Sample): boolean {
  return (fnv1a(sample.key) & 1) === 1;
}

/** Whether `detector` fires on the sample (on a request, on the parts its rule looks at). */
function fires(detector: Detector, sample: Sample): boolean {
  const fn = webDetectors[detector];
  if (sample.value !== undefined) return fn(sample.value);
  const r = sample.request!;
  return RULE_FIELDS[detector].some((part) => r[part].length > 0 && fn(r[part]));
}

// --- Readers ---------------------------------------------------------------------------------------------

function textLines(path: string): string[] {
  return readFileSync(path, 'latin1').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** libinjection's data files: one URL-encoded input per line, `#` comments. */
function libinjection(root: string, prefix: string): Sample[] {
  const dir = join(root, 'payloads/libinjection');
  const out: Sample[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith(prefix)).sort()) {
    for (const line of textLines(join(dir, file))) {
      if (line.length > 0 && !line.startsWith('#')) out.push({ key: line, value: line });
    }
  }
  return out;
}

/** RFC 4180 CSV with quoted fields (HttpParamsDataset). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field.length > 0 || row.length > 0) rows.push([...row, field]);
  return rows;
}

function httpParams(root: string, file: string): Array<{ payload: string; type: string; label: string }> {
  const rows = parseCsv(readFileSync(join(root, 'http-labelled/httpparams', file), 'utf8'));
  return rows.slice(1).filter((r) => r.length >= 4).map((r) => ({ payload: r[0]!, type: r[2]!, label: r[3]! }));
}

/** CSIC 2010 lines: `<method> <url>`, the body of a POST appended as the query. */
function csic(root: string, file: string): Sample[] {
  const out: Sample[] = [];
  for (const line of textLines(join(root, 'http-labelled/csic2010-derived', file))) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const url = line.slice(space + 1);
    const afterHost = url.indexOf('/', url.indexOf('//') + 2);
    const target = afterHost < 0 ? '/' : url.slice(afterHost);
    const q = target.indexOf('?');
    out.push({ key: line, request: { path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), ua: '' } });
  }
  return out;
}

/** Combined-format access lines, parsed by Vigil's own parser as events would be. */
function accessLog(path: string, unwrap = false): Sample[] {
  const out: Sample[] = [];
  const ctx = { now: Date.UTC(2020, 0, 1) };
  for (let line of textLines(path)) {
    if (line.length === 0) continue;
    if (unwrap && line.startsWith('"') && line.endsWith('"')) line = line.slice(1, -1);
    const parsed = parseLine(line, 'apache', ctx);
    if (!parsed.ok) continue;
    const f = parsed.fields;
    out.push({
      key: line,
      request: { query: f.url?.query ?? '', path: f.url?.path ?? '', ua: (f.user_agent as { original?: string } | undefined)?.original ?? '' },
    });
  }
  return out;
}

// --- Measurements ----------------------------------------------------------------------------------------

export interface RateRow {
  set: string;
  detector: string;
  samples: number;
  detected: number;
  /** Share detected, on all samples, the tuning half and the held-out half. */
  rate: number;
  tuneRate: number;
  heldOutRate: number;
  /** Goal for this row, if the task sets one. */
  goal?: string;
}

export interface FpRow {
  set: string;
  samples: number;
  /** False-positive share per detector, and for any detector. */
  rates: Record<string, number>;
  any: number;
  heldOutAny: number;
}

export interface CrsRow {
  class: string;
  rules: string;
  detectors: string;
  tests: number;
  detected: number;
  rate: number;
}

export interface SpeedRow {
  detector: string;
  strings: number;
  eps: number;
  floorEps: number;
  /** Detector time over floor time. */
  slowdown: number;
}

export interface DetectReport {
  detection: RateRow[];
  falsePositives: FpRow[];
  crs: CrsRow[];
  speed: SpeedRow[];
  misses: Record<string, string[]>;
}

function rateRow(set: string, detector: string, samples: Sample[], hit: (s: Sample) => boolean, misses: string[], goal?: string): RateRow {
  let detected = 0;
  let tune = 0;
  let tuneHit = 0;
  let held = 0;
  let heldHit = 0;
  for (const s of samples) {
    const h = hit(s);
    if (h) detected++;
    if (heldOut(s)) {
      held++;
      if (h) heldHit++;
    } else {
      tune++;
      if (h) tuneHit++;
      else if (misses.length < 400) misses.push(s.key);
    }
  }
  const row: RateRow = {
    set, detector, samples: samples.length, detected,
    rate: detected / Math.max(1, samples.length), tuneRate: tuneHit / Math.max(1, tune), heldOutRate: heldHit / Math.max(1, held),
  };
  if (goal !== undefined) row.goal = goal;
  return row;
}

function fpRow(set: string, samples: Sample[], misses: Record<string, string[]>): FpRow {
  const counts: Record<string, number> = {};
  let any = 0;
  let held = 0;
  let heldAny = 0;
  const hits: string[] = (misses[`fp: ${set}`] = []);
  for (const s of samples) {
    let flagged = false;
    const names: string[] = [];
    for (const d of DETECTORS) {
      if (fires(d, s)) {
        counts[d] = (counts[d] ?? 0) + 1;
        flagged = true;
        names.push(d);
      }
    }
    if (flagged) {
      any++;
      if (!heldOut(s) && hits.length < 400) hits.push(`${names.join(',')}\t${s.key}`);
    }
    if (heldOut(s)) {
      held++;
      if (flagged) heldAny++;
    }
  }
  const rates: Record<string, number> = {};
  for (const d of DETECTORS) rates[d] = (counts[d] ?? 0) / Math.max(1, samples.length);
  return { set, samples: samples.length, rates, any: any / Math.max(1, samples.length), heldOutAny: heldAny / Math.max(1, held) };
}

interface CrsTest {
  dir: string;
  rule: string;
  query: string;
  path: string;
  body: string;
  headers: Record<string, string>;
}

function crsTests(root: string): CrsTest[] {
  const base = join(root, 'http-labelled/crs-regression-tests');
  const out: CrsTest[] = [];
  for (const dir of readdirSync(base).filter((d) => d.startsWith('REQUEST-')).sort()) {
    for (const file of readdirSync(join(base, dir)).filter((f) => f.endsWith('.yaml')).sort()) {
      const doc = parseYaml(readFileSync(join(base, dir, file), 'utf8')) as { rule_id?: number; tests?: unknown[] };
      for (const test of doc.tests ?? []) {
        for (const stage of (test as { stages?: unknown[] }).stages ?? []) {
          const st = stage as { input?: Record<string, unknown>; output?: { log?: { expect_ids?: unknown[] } } };
          const input = st.input;
          if (input === undefined || !Array.isArray(st.output?.log?.expect_ids) || typeof input['uri'] !== 'string') continue;
          const uri = input['uri'];
          const q = uri.indexOf('?');
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries((input['headers'] as Record<string, unknown> | undefined) ?? {})) headers[k.toLowerCase()] = String(v);
          out.push({
            dir, rule: String(doc.rule_id ?? file.replace('.yaml', '')),
            query: q < 0 ? '' : uri.slice(q + 1), path: q < 0 ? uri : uri.slice(0, q),
            body: typeof input['data'] === 'string' ? input['data'] : '', headers,
          });
        }
      }
    }
  }
  return out;
}

/** Headers every CRS test sends with fixed benign values; the attack is elsewhere. */
const BORING_HEADERS = new Set(['host', 'accept', 'accept-encoding', 'accept-language', 'keep-alive', 'proxy-connection', 'connection', 'content-length']);

function crsRows(root: string, misses: Record<string, string[]>): CrsRow[] {
  const tests = crsTests(root);
  const classes: Array<{ name: string; dir: string; rules?: (rule: string) => boolean; detectors: Detector[]; parts: Array<'query' | 'path' | 'body' | 'headers' | 'ua'> }> = [
    { name: 'scanner (913)', dir: 'REQUEST-913', detectors: ['scanner'], parts: ['ua'] },
    { name: 'LFI / traversal (930)', dir: 'REQUEST-930', detectors: ['traversal', 'lfi'], parts: ['query', 'path', 'body', 'headers'] },
    { name: 'RFI (931)', dir: 'REQUEST-931', detectors: ['rfi'], parts: ['query', 'body'] },
    { name: 'command injection (932)', dir: 'REQUEST-932', detectors: ['cmdi'], parts: ['query', 'path', 'body', 'headers'] },
    { name: 'XSS (941)', dir: 'REQUEST-941', detectors: ['xss'], parts: ['query', 'path', 'body', 'headers'] },
    { name: 'SQL injection (942)', dir: 'REQUEST-942', detectors: ['sqli'], parts: ['query', 'path', 'body', 'headers'] },
    { name: 'SQL injection, libinjection rule (942100)', dir: 'REQUEST-942', rules: (r) => r === '942100', detectors: ['sqli'], parts: ['query', 'path', 'body', 'headers'] },
    { name: 'XSS, libinjection rule (941100)', dir: 'REQUEST-941', rules: (r) => r === '941100', detectors: ['xss'], parts: ['query', 'path', 'body', 'headers'] },
    { name: 'Log4j JNDI (944150-944152)', dir: 'REQUEST-944', rules: (r) => ['944150', '944151', '944152'].includes(r), detectors: ['jndi'], parts: ['query', 'path', 'body', 'headers'] },
  ];
  const rows: CrsRow[] = [];
  for (const cls of classes) {
    const selected = tests.filter((t) => t.dir.startsWith(cls.dir) && (cls.rules === undefined || cls.rules(t.rule)));
    const missed: string[] = (misses[`crs: ${cls.name}`] = []);
    let detected = 0;
    for (const t of selected) {
      const values: string[] = [];
      for (const part of cls.parts) {
        if (part === 'query' || part === 'path' || part === 'body') values.push(t[part]);
        else if (part === 'ua') values.push(t.headers['user-agent'] ?? '');
        else for (const [k, v] of Object.entries(t.headers)) if (!BORING_HEADERS.has(k)) values.push(v);
      }
      const hit = values.some((v) => v.length > 0 && cls.detectors.some((d) => webDetectors[d](v)));
      if (hit) detected++;
      else if (missed.length < 400) missed.push(`${t.rule}\t${t.path}?${t.query}\t${t.body}\t${JSON.stringify(t.headers)}`);
    }
    const rules = [...new Set(selected.map((t) => t.rule))];
    rows.push({ class: cls.name, rules: `${rules.length} rules`, detectors: cls.detectors.join(' | '), tests: selected.length, detected, rate: detected / Math.max(1, selected.length) });
  }
  return rows;
}

/** Events/s of each detector over benign strings, next to decodeURIComponent + toLowerCase; medians of `runs`. */
function speed(strings: string[], runs: number): SpeedRow[] {
  const floorRun = (): number => {
    const t0 = performance.now();
    let sink = 0;
    for (const s of strings) {
      let d: string;
      try {
        d = decodeURIComponent(s);
      } catch {
        d = s;
      }
      sink += d.toLowerCase().length;
    }
    if (sink < 0) console.log(sink);
    return performance.now() - t0;
  };
  const rows: SpeedRow[] = [];
  for (const d of DETECTORS) {
    const fn = webDetectors[d];
    const detTimes: number[] = [];
    const floorTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      // Side by side in one run, so both see the same machine load.
      floorTimes.push(floorRun());
      const t0 = performance.now();
      let sink = 0;
      for (const s of strings) if (fn(s)) sink++;
      detTimes.push(performance.now() - t0);
      if (sink < 0) console.log(sink);
    }
    const det = median(detTimes);
    const flo = median(floorTimes);
    rows.push({ detector: d, strings: strings.length, eps: (strings.length / det) * 1000, floorEps: (strings.length / flo) * 1000, slowdown: det / flo });
  }
  return rows;
}

export function benchDetect(root: string, opts: { runs?: number } = {}): DetectReport {
  const misses: Record<string, string[]> = {};
  const detection: RateRow[] = [];
  const add = (set: string, detectors: Detector[] | 'any', samples: Sample[], goal?: string): void => {
    const names = detectors === 'any' ? 'any' : detectors.join(' | ');
    const list: string[] = (misses[`${set} / ${names}`] = []);
    const used = detectors === 'any' ? DETECTORS : detectors;
    detection.push(rateRow(set, names, samples, (s) => used.some((d) => fires(d, s)), list, goal));
  };

  const liSqli = libinjection(root, 'sqli-');
  const liXss = libinjection(root, 'xss-');
  const liFp = libinjection(root, 'false_positives');
  add('libinjection sqli-*', ['sqli'], liSqli, '>= 99%');
  add('libinjection xss-*', ['xss'], liXss, '>= 97%');

  const train = httpParams(root, 'payload_train.csv');
  const lexical = httpParams(root, 'payload_test_lexical.csv');
  const asSamples = (rows: Array<{ payload: string }>): Sample[] => rows.map((r) => ({ key: r.payload, value: r.payload }));
  const byType = (rows: typeof train, type: string): Sample[] => asSamples(rows.filter((r) => r.type === type));
  add('HttpParams sqli', ['sqli'], byType(train, 'sqli'), '>= 99%');
  add('HttpParams xss', ['xss'], byType(train, 'xss'), '>= 97%');
  add('HttpParams path-traversal', ['traversal', 'lfi'], byType(train, 'path-traversal'));
  add('HttpParams cmdi', ['cmdi'], byType(train, 'cmdi'));
  add('HttpParams lexical sql-syntax', ['sqli'], byType(lexical, 'sql-syntax'));
  add('HttpParams lexical js-syntax', ['xss'], byType(lexical, 'js-syntax'));

  const csicAttack = csic(root, 'anomalous_dev.txt');
  const csicNormal = csic(root, 'normal_dev.txt');
  add('CSIC 2010 anomalous', ['sqli'], csicAttack);
  add('CSIC 2010 anomalous', ['xss'], csicAttack);
  add('CSIC 2010 anomalous', 'any', csicAttack);

  const scannerLogs = join(root, 'web-access/scanner-logs');
  for (const file of ['acunetix.txt', 'netsparker.txt']) add(`scanner run ${file}`, 'any', accessLog(join(scannerLogs, file), true));

  const elastic = accessLog(join(root, 'web-access/elastic-examples_apache_access.log'));
  const falsePositives = [
    fpRow('libinjection false_positives', liFp, misses),
    fpRow('HttpParams norm', asSamples(train.filter((r) => r.label === 'norm')), misses),
    fpRow('HttpParams lexical norm', asSamples(lexical.filter((r) => r.label === 'norm')), misses),
    fpRow('CSIC 2010 normal', csicNormal, misses),
    fpRow('Elastic apache access log', elastic, misses),
  ];

  const crs = crsRows(root, misses);
  const benign = [
    ...train.filter((r) => r.label === 'norm').map((r) => r.payload),
    ...csicNormal.map((s) => s.request!.query).filter((q) => q.length > 0),
    ...elastic.map((s) => s.request!.query).filter((q) => q.length > 0),
  ];
  return { detection, falsePositives, crs, speed: speed(benign, opts.runs ?? 5), misses };
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export function printDetect(report: DetectReport): void {
  console.log('\n== Web attack detection: detection rate on attack corpora (tune half / held-out half) ==');
  console.table(report.detection.map((r) => ({
    set: r.set, detector: r.detector, samples: r.samples, detected: pct(r.rate), tune: pct(r.tuneRate), 'held-out': pct(r.heldOutRate), goal: r.goal ?? '',
  })));
  console.log('\n== Web attack detection: false positives on benign sets (goal <= 0.5%) ==');
  console.table(report.falsePositives.map((r) => ({
    set: r.set, samples: r.samples, ...Object.fromEntries(Object.entries(r.rates).map(([k, v]) => [k, pct(v)])), any: pct(r.any), 'any held-out': pct(r.heldOutAny),
  })));
  console.log('\n== Web attack detection: OWASP CRS regression tests, attacks per class ==');
  console.table(report.crs.map((r) => ({ class: r.class, rules: r.rules, detectors: r.detectors, tests: r.tests, detected: pct(r.rate) })));
  console.log('\n== Web attack detection: strings/s over benign values (median of runs), next to decodeURIComponent + toLowerCase ==');
  console.table(report.speed.map((r) => ({ detector: r.detector, strings: r.strings, 'detector /s': int(r.eps), 'floor /s': int(r.floorEps), 'detector time / floor time': r.slowdown.toFixed(1) })));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = benchDetect(datasetsRoot(), { runs: process.argv.includes('--quick') ? 3 : 5 });
  if (process.argv.includes('--json')) {
    const { misses, ...rest } = report;
    console.log(JSON.stringify(process.argv.includes('--misses') ? report : rest, null, 2));
  } else {
    printDetect(report);
    if (process.argv.includes('--misses')) {
      for (const [name, list] of Object.entries(report.misses)) {
        if (list.length === 0) continue;
        console.log(`\n-- ${name} (tuning half, first ${list.length})`);
        for (const m of list) console.log(m);
      }
    }
  }
}
