// Aho-Corasick automaton (Aho & Corasick, CACM 1975) over UTF-16 code units: every `contains` literal that the
// loaded rules test on one field is found in a single pass over the field's text, whatever the number of rules.
// The transition table is a full DFA (failure links folded in), so scanning is one table read per character.

export class AhoCorasick {
  /** Code unit → character class (0: a character no needle has). */
  private readonly classOf: Uint16Array;
  private readonly classes: number;
  /** next[state * classes + class] → state. */
  private readonly next: Uint16Array | Int32Array;
  /** 1 where a needle ends at the state or at one of its suffixes. */
  private readonly reports: Uint8Array;
  /** Needle ids ending exactly at each state: outStart[s]..outStart[s+1] in outIds. */
  private readonly outStart: Int32Array;
  private readonly outIds: Int32Array;
  /** Nearest proper suffix state that has output (-1: none). */
  private readonly dictLink: Int32Array;
  readonly states: number;

  /** `needles[i]` is reported as `ids[i]`; empty needles are ignored (they would match everything). */
  constructor(needles: readonly string[], ids: readonly number[]) {
    const classOf = new Uint16Array(65536);
    let classes = 1;
    for (const n of needles) {
      for (let i = 0; i < n.length; i++) {
        const c = n.charCodeAt(i);
        if (classOf[c] === 0) classOf[c] = classes++;
      }
    }
    this.classOf = classOf;
    this.classes = classes;
    // Trie.
    const children: Map<number, number>[] = [new Map()];
    const own: number[][] = [[]];
    needles.forEach((n, k) => {
      if (n.length === 0) return;
      let s = 0;
      for (let i = 0; i < n.length; i++) {
        const cls = classOf[n.charCodeAt(i)]!;
        let t = children[s]!.get(cls);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          own.push([]);
          children[s]!.set(cls, t);
        }
        s = t;
      }
      own[s]!.push(ids[k]!);
    });
    const states = children.length;
    this.states = states;
    const next = states < 65536 ? new Uint16Array(states * classes) : new Int32Array(states * classes);
    const fail = new Int32Array(states);
    const dictLink = new Int32Array(states).fill(-1);
    // Breadth-first: a state's failure target is shallower, so its row is complete when needed.
    const queue: number[] = [];
    for (const [cls, t] of children[0]!) {
      next[cls] = t;
      queue.push(t);
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head]!;
      const f = fail[s]!;
      dictLink[s] = own[f]!.length > 0 ? f : dictLink[f]!;
      const row = s * classes;
      const frow = f * classes;
      for (let cls = 0; cls < classes; cls++) next[row + cls] = next[frow + cls]!;
      for (const [cls, t] of children[s]!) {
        next[row + cls] = t;
        fail[t] = next[frow + cls]!;
        queue.push(t);
      }
    }
    this.next = next;
    this.dictLink = dictLink;
    const outStart = new Int32Array(states + 1);
    let total = 0;
    for (let s = 0; s < states; s++) {
      outStart[s] = total;
      total += own[s]!.length;
    }
    outStart[states] = total;
    const outIds = new Int32Array(total);
    for (let s = 0; s < states; s++) outIds.set(own[s]!, outStart[s]!);
    this.outStart = outStart;
    this.outIds = outIds;
    const reports = new Uint8Array(states);
    for (let s = 0; s < states; s++) reports[s] = own[s]!.length > 0 || dictLink[s]! >= 0 ? 1 : 0;
    this.reports = reports;
  }

  /** Sets `marks[id] = stamp` for every needle found in `text`, and lists each newly marked id in `found`. */
  mark(text: string, marks: Int32Array, stamp: number, found: number[]): void {
    const { classOf, classes, next, outStart, outIds, dictLink, reports } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = next[s * classes + classOf[text.charCodeAt(i)]!]!;
      if (reports[s] === 0) continue;
      for (let o = s; o > 0; o = dictLink[o]!) {
        for (let k = outStart[o]!, end = outStart[o + 1]!; k < end; k++) {
          const id = outIds[k]!;
          if (marks[id] !== stamp) {
            marks[id] = stamp;
            found.push(id);
          }
        }
        if (dictLink[o]! < 0) break;
      }
    }
  }
}
