// The per-event side of rule matching: field values read once per event and cached by slot (raw, as strings,
// lowered), and the `contains` literals of every loaded rule found per field in one Aho-Corasick pass.
// Rules compile to closures over slots and needle ids; nothing here parses rule text or builds a regex.
import { getField, type EcsEvent } from '../../core/event.js';
import { AhoCorasick } from './aho-corasick.js';

/**
 * Reads a dotted ECS field: the nested path (what parsers and the JSON normalizer produce); where it is missing,
 * a literal dotted key (`{"url.query": …}`) through getField, only when the document has a dotted key at the top.
 */
export function accessor(path: string): (doc: Record<string, unknown>) => unknown {
  const segments = path.split('.');
  if (segments.length === 1) return (doc) => doc[path];
  const head = segments[0]!;
  return (doc) => {
    let node: unknown = doc[head];
    for (let i = 1; i < segments.length && node !== undefined; i++) {
      if (node === null || typeof node !== 'object') return getField(doc, path);
      node = (node as Record<string, unknown>)[segments[i]!];
    }
    if (node === undefined && path in doc) return doc[path];
    return node;
  };
}

const MAX_VALUES = 256;

/** A field's value as the strings Sigma compares: arrays flattened, numbers and booleans as text, objects none. */
export function toStrings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (value === undefined || value === null) return out;
  switch (typeof value) {
    case 'string':
      out.push(value);
      break;
    case 'number':
    case 'boolean':
    case 'bigint':
      out.push(String(value));
      break;
    case 'object':
      if (Array.isArray(value) && depth < 2) {
        for (const v of value) {
          if (out.length >= MAX_VALUES) break;
          toStrings(v, out, depth + 1);
        }
      }
      break;
    default:
      break;
  }
  return out;
}

/** Every field the loaded rules read, numbered; and every `contains` literal per field, numbered. */
export class FieldTable {
  readonly paths: string[] = [];
  private readonly index = new Map<string, number>();
  readonly readers: ((doc: Record<string, unknown>) => unknown)[] = [];
  /** Per slot: lowered needles and their ids, for the slot's automaton. */
  private readonly needles = new Map<number, Map<string, number>>();
  automata: (AhoCorasick | undefined)[] = [];
  needleCount = 0;
  readonly needleText: string[] = [];
  /** `slot name` → id of a (field, extension modifier) pair, whose answer is kept per event. */
  private readonly flagIds = new Map<string, number>();

  slot(path: string): number {
    let s = this.index.get(path);
    if (s === undefined) {
      s = this.paths.length;
      this.paths.push(path);
      this.index.set(path, s);
      this.readers.push(accessor(path));
    }
    return s;
  }

  /** The id of a lowered `contains` literal on a slot (one id per distinct literal and slot). */
  needle(slot: number, lowered: string): number {
    let perSlot = this.needles.get(slot);
    if (!perSlot) this.needles.set(slot, (perSlot = new Map()));
    let id = perSlot.get(lowered);
    if (id === undefined) {
      id = this.needleCount++;
      perSlot.set(lowered, id);
      this.needleText.push(lowered);
    }
    return id;
  }

  /** The id of an extension modifier on a slot: rules sharing it run the extension once per event. */
  flag(slot: number, extension: string): number {
    const key = `${slot} ${extension}`;
    let id = this.flagIds.get(key);
    if (id === undefined) this.flagIds.set(key, (id = this.flagIds.size));
    return id;
  }

  get flagCount(): number {
    return this.flagIds.size;
  }

  /** Builds the automata once every rule is compiled. */
  finalize(): void {
    this.automata = this.paths.map((_, slot) => {
      const perSlot = this.needles.get(slot);
      if (!perSlot || perSlot.size === 0) return undefined;
      return new AhoCorasick([...perSlot.keys()], [...perSlot.values()]);
    });
  }
}

/**
 * What the automaton found in recent texts of one field. User agents, referrers and methods repeat from request to
 * request, so a text seen lately is not scanned again. Bounded (two generations of GENERATION texts: the young one
 * becomes the old one when full). A field whose texts rarely repeat (unique URLs) stops being remembered.
 */
class ScanMemo {
  static readonly MAX_TEXT = 4096;
  private static readonly GENERATION = 1024;
  private static readonly TRIAL = 4096;
  private young = new Map<string, number[]>();
  private old = new Map<string, number[]>();
  private lookups = 0;
  private hits = 0;
  /** False once a trial showed that fewer than one text in five repeats. */
  useful = true;

  get(text: string): number[] | undefined {
    let ids = this.young.get(text);
    if (ids === undefined) {
      ids = this.old.get(text);
      if (ids !== undefined) this.set(text, ids);
    }
    if (++this.lookups === ScanMemo.TRIAL && this.hits + (ids !== undefined ? 1 : 0) < ScanMemo.TRIAL / 5) {
      this.useful = false;
      this.young.clear();
      this.old.clear();
    }
    if (ids !== undefined) this.hits++;
    return ids;
  }

  set(text: string, ids: number[]): void {
    if (this.young.size >= ScanMemo.GENERATION) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(text, ids);
  }
}

/** One event's cached view, reused across events (stamps instead of clearing). */
export class EvalContext {
  event!: EcsEvent;
  doc!: Record<string, unknown>;
  /** Event time in ms. */
  time = 0;
  private stamp = 0;
  private readonly rawStamp: Int32Array;
  private readonly raw: unknown[];
  private readonly strStamp: Int32Array;
  private readonly strs: string[][];
  private readonly lowStamp: Int32Array;
  private readonly lows: string[][];
  private readonly scanStamp: Int32Array;
  private readonly memos: (ScanMemo | undefined)[] = [];
  readonly hits: Int32Array;
  private readonly flagStamp: Int32Array;
  private readonly flags: Uint8Array;
  /** Needle ids found in this event so far (in the slots scanned so far). */
  readonly found: number[] = [];

  constructor(readonly table: FieldTable) {
    const n = table.paths.length;
    this.rawStamp = new Int32Array(n);
    this.raw = new Array<unknown>(n);
    this.strStamp = new Int32Array(n);
    this.strs = new Array<string[]>(n);
    this.lowStamp = new Int32Array(n);
    this.lows = new Array<string[]>(n);
    this.scanStamp = new Int32Array(n);
    this.hits = new Int32Array(Math.max(1, table.needleCount));
    this.flagStamp = new Int32Array(table.flagCount);
    this.flags = new Uint8Array(table.flagCount);
  }

  reset(event: EcsEvent, time: number): void {
    this.event = event;
    this.doc = event as unknown as Record<string, unknown>;
    this.time = time;
    this.found.length = 0;
    this.stamp++;
    if (this.stamp === 0x7fffffff) {
      // Stamps wrap after 2^31 events: start over with cleared tables.
      this.stamp = 1;
      this.rawStamp.fill(0);
      this.strStamp.fill(0);
      this.lowStamp.fill(0);
      this.scanStamp.fill(0);
      this.hits.fill(0);
      this.flagStamp.fill(0);
    }
  }

  value(slot: number): unknown {
    if (this.rawStamp[slot] !== this.stamp) {
      this.rawStamp[slot] = this.stamp;
      this.raw[slot] = this.table.readers[slot]!(this.doc);
    }
    return this.raw[slot];
  }

  // The arrays below are reused from event to event (cleared, not reallocated): a test must not keep them.
  strings(slot: number): string[] {
    const out = (this.strs[slot] ??= []);
    if (this.strStamp[slot] !== this.stamp) {
      this.strStamp[slot] = this.stamp;
      out.length = 0;
      const v = this.value(slot);
      if (typeof v === 'string') out.push(v);
      else if (v !== undefined && v !== null) toStrings(v, out);
    }
    return out;
  }

  lowered(slot: number): string[] {
    const out = (this.lows[slot] ??= []);
    if (this.lowStamp[slot] !== this.stamp) {
      this.lowStamp[slot] = this.stamp;
      out.length = 0;
      const s = this.strings(slot);
      for (let i = 0; i < s.length; i++) out.push(s[i]!.toLowerCase());
    }
    return out;
  }

  /** The current event's stamp (changes with every event). */
  get current(): number {
    return this.stamp;
  }

  /** Runs the slot's automaton over its value once per event (or replays what it found in the same text lately). */
  scan(slot: number): void {
    if (this.scanStamp[slot] === this.stamp) return;
    this.scanStamp[slot] = this.stamp;
    const automaton = this.table.automata[slot];
    if (!automaton) return;
    const v = this.value(slot);
    const memo = typeof v === 'string' && v.length <= ScanMemo.MAX_TEXT ? (this.memos[slot] ??= new ScanMemo()) : undefined;
    if (memo !== undefined && memo.useful) {
      const known = memo.get(v as string);
      if (known !== undefined) {
        for (const id of known) {
          if (this.hits[id] !== this.stamp) {
            this.hits[id] = this.stamp;
            this.found.push(id);
          }
        }
        return;
      }
      const before = this.found.length;
      for (const text of this.lowered(slot)) automaton.mark(text, this.hits, this.stamp, this.found);
      memo.set(v as string, this.found.slice(before));
      return;
    }
    for (const text of this.lowered(slot)) automaton.mark(text, this.hits, this.stamp, this.found);
  }

  /**
   * Whether an extension modifier flags any value of the slot, asked once per event for each (field, extension):
   * several rules, and a detection's explanation, reuse the answer. An extension that throws flags nothing.
   */
  flagged(flag: number, slot: number, extension: (value: string) => boolean): boolean {
    if (this.flagStamp[flag] === this.stamp) return this.flags[flag] === 1;
    let found = false;
    for (const v of this.strings(slot)) {
      try {
        if (extension(v)) {
          found = true;
          break;
        }
      } catch {
        // A failing extension never breaks detection: the value counts as not flagged.
      }
    }
    this.flagStamp[flag] = this.stamp;
    this.flags[flag] = found ? 1 : 0;
    return found;
  }

  /** True when the lowered literal `needle` occurs in the slot's value (one automaton pass per slot and event). */
  has(slot: number, needle: number): boolean {
    this.scan(slot);
    return this.hits[needle] === this.stamp;
  }
}
