// Saving and loading a forest: a versioned JSON form (readable, diffable) and a compact binary form (typed arrays
// as they are in memory, with a SHA-256 checksum). Both are validated on load; a damaged or newer file is refused
// with an error that says so, never half-loaded.
import { createHash } from 'node:crypto';
import { VigilError } from '../../../core/errors.js';
import { IsolationForest, type ForestArrays, type ForestParams } from './forest.js';

export const FORMAT = 'vigil-iforest';
/** Bumped whenever the layout changes; readers refuse versions they do not know. */
export const FORMAT_VERSION = 1;
const MAGIC = 'VGIF';

export interface ForestJson {
  format: typeof FORMAT;
  version: number;
  params: ForestParams;
  trees: { roots: number[]; feature: number[]; threshold: number[]; left: number[]; size: number[]; low: number[]; high: number[] };
}

function invalid(message: string, origin?: string): VigilError {
  return new VigilError('bad_request', `${origin ? `${origin}: ` : ''}not a usable Isolation Forest model: ${message}`);
}

export function forestToJson(forest: IsolationForest): ForestJson {
  const a = forest.arrays;
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    params: { ...forest.params },
    trees: {
      roots: Array.from(a.roots),
      feature: Array.from(a.feature),
      // Numbers print in their shortest round-trip form, so thresholds come back bit for bit.
      threshold: Array.from(a.threshold),
      left: Array.from(a.left),
      size: Array.from(a.size),
      low: Array.from(a.low),
      high: Array.from(a.high),
    },
  };
}

const PARAM_KEYS: readonly (keyof ForestParams)[] = ['trees', 'sampleSize', 'seed', 'features', 'maxDepth', 'trainingRows'];

function readParams(raw: unknown, origin?: string): ForestParams {
  if (raw === null || typeof raw !== 'object') throw invalid('params missing', origin);
  const obj = raw as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const key of PARAM_KEYS) {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`params.${key} must be an integer`, origin);
    out[key] = v;
  }
  return out as unknown as ForestParams;
}

function checkHeader(format: unknown, version: unknown, origin?: string): void {
  if (format !== FORMAT) throw invalid(`format is ${JSON.stringify(format)}, expected "${FORMAT}"`, origin);
  if (typeof version !== 'number' || !Number.isInteger(version)) throw invalid('version missing', origin);
  if (version > FORMAT_VERSION) throw invalid(`format version ${version} is newer than this Vigil reads (${FORMAT_VERSION}); upgrade Vigil or retrain`, origin);
  if (version < 1) throw invalid(`format version ${version} is not supported; retrain the model`, origin);
}

function intArray(raw: unknown, name: string, origin?: string): Int32Array {
  if (!Array.isArray(raw)) throw invalid(`trees.${name} must be an array`, origin);
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v: unknown = raw[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > 0x7fffffff) throw invalid(`trees.${name}[${i}] is not a node integer`, origin);
    out[i] = v;
  }
  return out;
}

export function forestFromJson(raw: unknown, origin?: string): IsolationForest {
  if (raw === null || typeof raw !== 'object') throw invalid('not a JSON object', origin);
  const obj = raw as Record<string, unknown>;
  checkHeader(obj.format, obj.version, origin);
  const params = readParams(obj.params, origin);
  const trees = obj.trees as Record<string, unknown> | undefined;
  if (trees === null || typeof trees !== 'object') throw invalid('trees missing', origin);
  const floats = (name: 'threshold' | 'low' | 'high'): Float64Array => {
    const list = trees[name];
    if (!Array.isArray(list)) throw invalid(`trees.${name} must be an array`, origin);
    const out = new Float64Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const v: unknown = list[i];
      if (typeof v !== 'number') throw invalid(`trees.${name}[${i}] is not a number`, origin);
      out[i] = v;
    }
    return out;
  };
  const threshold = floats('threshold');
  const arrays: ForestArrays = {
    roots: intArray(trees.roots, 'roots', origin),
    feature: intArray(trees.feature, 'feature', origin),
    threshold,
    left: intArray(trees.left, 'left', origin),
    size: intArray(trees.size, 'size', origin),
    low: floats('low'),
    high: floats('high'),
  };
  return construct(params, arrays, origin);
}

function construct(params: ForestParams, arrays: ForestArrays, origin?: string): IsolationForest {
  try {
    return new IsolationForest(params, arrays);
  } catch (err) {
    if (err instanceof VigilError) throw invalid(err.message.replace(/^invalid Isolation Forest model: /, ''), origin);
    throw err;
  }
}

/**
 * Binary layout (little-endian):
 *   "VGIF" | u32 format version | u32 header length | header JSON (params, node count) | zero padding to 8 bytes
 *   | Float64 threshold[n] | Float64 low[n] | Float64 high[n] | Int32 roots[trees] | Int32 feature[n] | Int32 left[n]
 *   | Int32 size[n]
 *   | 32-byte SHA-256 of everything before it.
 */
export function forestToBinary(forest: IsolationForest): Buffer {
  const a = forest.arrays;
  const n = a.feature.length;
  const header = Buffer.from(JSON.stringify({ format: FORMAT, params: forest.params, nodes: n }), 'utf8');
  const headerEnd = 12 + header.length;
  const bodyStart = Math.ceil(headerEnd / 8) * 8;
  const bodyBytes = 3 * n * 8 + (a.roots.length + 3 * n) * 4;
  const out = Buffer.alloc(bodyStart + bodyBytes + 32);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(FORMAT_VERSION, 4);
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  let off = bodyStart;
  const put = (arr: Float64Array | Int32Array) => {
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    out.set(bytes, off);
    off += arr.byteLength;
  };
  put(a.threshold);
  put(a.low);
  put(a.high);
  put(a.roots);
  put(a.feature);
  put(a.left);
  put(a.size);
  createHash('sha256').update(out.subarray(0, off)).digest().copy(out, off);
  return out;
}

export function forestFromBinary(buf: Uint8Array, origin?: string): IsolationForest {
  const data = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (data.length < 12 + 32 || data.toString('latin1', 0, 4) !== MAGIC) throw invalid('not a Vigil binary model (bad magic bytes)', origin);
  const version = data.readUInt32LE(4);
  checkHeader(FORMAT, version, origin);
  const digest = createHash('sha256').update(data.subarray(0, data.length - 32)).digest();
  if (!digest.equals(data.subarray(data.length - 32))) throw invalid('checksum mismatch (the file is truncated or damaged)', origin);
  const headerLength = data.readUInt32LE(8);
  if (12 + headerLength > data.length - 32) throw invalid('header runs past the end of the file', origin);
  let header: { format?: unknown; params?: unknown; nodes?: unknown };
  try {
    header = JSON.parse(data.toString('utf8', 12, 12 + headerLength)) as typeof header;
  } catch {
    throw invalid('header is not JSON', origin);
  }
  if (header.format !== FORMAT) throw invalid('header names another format', origin);
  const params = readParams(header.params, origin);
  const n = header.nodes;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw invalid('node count missing', origin);
  const bodyStart = Math.ceil((12 + headerLength) / 8) * 8;
  const expected = bodyStart + 3 * n * 8 + (params.trees + 3 * n) * 4 + 32;
  if (data.length !== expected) throw invalid(`${data.length} bytes, expected ${expected} for ${n} nodes`, origin);
  // Copy out of the file buffer: typed arrays need aligned offsets, and the model must not pin the read buffer.
  let off = bodyStart;
  const take = <T extends Float64Array | Int32Array>(count: number, make: (b: ArrayBuffer) => T, width: number): T => {
    const copy = new ArrayBuffer(count * width);
    new Uint8Array(copy).set(data.subarray(off, off + count * width));
    off += count * width;
    return make(copy);
  };
  const threshold = take(n, (b) => new Float64Array(b), 8);
  const low = take(n, (b) => new Float64Array(b), 8);
  const high = take(n, (b) => new Float64Array(b), 8);
  const roots = take(params.trees, (b) => new Int32Array(b), 4);
  const feature = take(n, (b) => new Int32Array(b), 4);
  const left = take(n, (b) => new Int32Array(b), 4);
  const size = take(n, (b) => new Int32Array(b), 4);
  return construct(params, { roots, feature, threshold, left, size, low, high }, origin);
}

/** Reads either form: binary when it starts with the magic bytes, JSON otherwise. */
export function parseForest(buf: Uint8Array, origin?: string): IsolationForest {
  if (buf.length >= 4 && Buffer.from(buf.buffer, buf.byteOffset, 4).toString('latin1') === MAGIC) return forestFromBinary(buf, origin);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8'));
  } catch {
    throw invalid('neither a binary model nor valid JSON', origin);
  }
  return forestFromJson(raw, origin);
}
