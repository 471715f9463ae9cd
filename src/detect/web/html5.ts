// A small HTML5 tokenizer for detection (after libinjection's html5 module and the HTML Living Standard §13.2.5):
// it splits text into tag names, attribute names and values, comments and text, as a browser would, starting in a
// chosen state (text, or inside an attribute value) because injected input lands in the middle of a page.
// Linear: every state moves forward, searches never look back.

export type HtmlTokenType =
  | 'text' | 'tag-open' | 'tag-close' | 'tag-end' | 'tag-self-close' | 'attr-name' | 'attr-value' | 'comment' | 'doctype';

/** Where the injected text is assumed to land. */
export type HtmlContext = 'data' | 'value-unquoted' | 'value-single' | 'value-double' | 'value-back';

export interface HtmlToken {
  type: HtmlTokenType;
  start: number;
  end: number;
}

const enum State {
  Eof, Data, TagOpen, TagName, TagNameClose, EndTagOpen, SelfClosing, BeforeAttrName, AttrName, AfterAttrName,
  BeforeAttrValue, ValueDouble, ValueSingle, ValueBack, ValueUnquoted, AfterValueQuoted, BogusComment,
  BogusComment2, MarkupDeclaration, Comment, Cdata, Doctype,
}

/** HTML white space, plus NUL, vertical tab and CR that old browsers skipped too. */
function isSkippable(c: number): boolean {
  return c === 0 || c === 32 || (c >= 9 && c <= 13);
}

function isWhite(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export class HtmlTokenizer {
  private pos = 0;
  private state: State;
  /** Set after `</`: the next tag name closes a tag. */
  private closing = false;
  private token: HtmlToken = { type: 'text', start: 0, end: 0 };

  constructor(private readonly s: string, context: HtmlContext = 'data') {
    this.state = {
      data: State.Data, 'value-unquoted': State.BeforeAttrName, 'value-single': State.ValueSingle,
      'value-double': State.ValueDouble, 'value-back': State.ValueBack,
    }[context];
  }

  /** The next token, or undefined at the end. The returned object is reused by the next call. */
  next(): HtmlToken | undefined {
    return this.run(this.state) ? this.token : undefined;
  }

  private emit(type: HtmlTokenType, start: number, end: number, next: State): boolean {
    this.token.type = type;
    this.token.start = start;
    this.token.end = end;
    this.state = next;
    return true;
  }

  private run(state: State): boolean {
    switch (state) {
      case State.Eof: return false;
      case State.Data: return this.data();
      case State.TagOpen: return this.tagOpen();
      case State.TagName: return this.tagName();
      case State.TagNameClose: return this.tagNameClose();
      case State.EndTagOpen: return this.endTagOpen();
      case State.SelfClosing: return this.selfClosing();
      case State.BeforeAttrName: return this.beforeAttrName();
      case State.AttrName: return this.attrName();
      case State.AfterAttrName: return this.afterAttrName();
      case State.BeforeAttrValue: return this.beforeAttrValue();
      case State.ValueDouble: return this.quotedValue('"');
      case State.ValueSingle: return this.quotedValue("'");
      case State.ValueBack: return this.quotedValue('`');
      case State.ValueUnquoted: return this.unquotedValue();
      case State.AfterValueQuoted: return this.afterValueQuoted();
      case State.BogusComment: return this.bogusComment();
      case State.BogusComment2: return this.bogusComment2();
      case State.MarkupDeclaration: return this.markupDeclaration();
      case State.Comment: return this.comment();
      case State.Cdata: return this.cdata();
      case State.Doctype: return this.doctype();
    }
  }

  private data(): boolean {
    const s = this.s;
    const lt = s.indexOf('<', this.pos);
    if (lt < 0) {
      const start = this.pos;
      this.pos = s.length;
      this.state = State.Eof;
      return start < s.length ? this.emit('text', start, s.length, State.Eof) : false;
    }
    const start = this.pos;
    this.pos = lt + 1;
    if (lt === start) return this.tagOpen();
    return this.emit('text', start, lt, State.TagOpen);
  }

  private tagOpen(): boolean {
    const s = this.s;
    if (this.pos >= s.length) return false;
    const c = s.charCodeAt(this.pos);
    if (c === 33) {
      this.pos++;
      return this.markupDeclaration();
    }
    if (c === 47) {
      this.pos++;
      this.closing = true;
      return this.endTagOpen();
    }
    if (c === 63) {
      this.pos++;
      return this.bogusComment();
    }
    if (c === 37) {
      // `<% … %>`: not in the standard, but old IE and Safari read it as a comment.
      this.pos++;
      return this.bogusComment2();
    }
    if (isAsciiLetter(c) || c === 0) return this.tagName();
    if (this.pos === 0) return this.data();
    return this.emit('text', this.pos - 1, this.pos, State.Data);
  }

  private endTagOpen(): boolean {
    const s = this.s;
    if (this.pos >= s.length) return false;
    const c = s.charCodeAt(this.pos);
    if (c === 62) return this.data();
    if (isAsciiLetter(c)) return this.tagName();
    this.closing = false;
    return this.bogusComment();
  }

  private tagNameClose(): boolean {
    this.closing = false;
    const start = this.pos;
    this.pos++;
    return this.emit('tag-end', start, start + 1, this.pos < this.s.length ? State.Data : State.Eof);
  }

  private tagName(): boolean {
    const s = this.s;
    const start = this.pos;
    for (let p = start; p < s.length; p++) {
      const c = s.charCodeAt(p);
      if (c === 0) continue;
      if (isWhite(c)) {
        this.pos = p + 1;
        return this.emit('tag-open', start, p, State.BeforeAttrName);
      }
      if (c === 47) {
        this.pos = p + 1;
        return this.emit('tag-open', start, p, State.SelfClosing);
      }
      if (c === 62) {
        if (this.closing) {
          this.pos = p + 1;
          this.closing = false;
          return this.emit('tag-close', start, p, State.Data);
        }
        this.pos = p;
        return this.emit('tag-open', start, p, State.TagNameClose);
      }
    }
    this.pos = s.length;
    return this.emit('tag-open', start, s.length, State.Eof);
  }

  private skipWhite(): number {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (!isSkippable(c)) return c;
      this.pos++;
    }
    return -1;
  }

  private beforeAttrName(): boolean {
    const c = this.skipWhite();
    if (c < 0) return false;
    if (c === 47) {
      this.pos++;
      return this.selfClosing();
    }
    if (c === 62) {
      const start = this.pos;
      this.pos++;
      return this.emit('tag-end', start, start + 1, State.Data);
    }
    return this.attrName();
  }

  private attrName(): boolean {
    const s = this.s;
    const start = this.pos;
    for (let p = start + 1; p < s.length; p++) {
      const c = s.charCodeAt(p);
      if (isWhite(c)) {
        this.pos = p + 1;
        return this.emit('attr-name', start, p, State.AfterAttrName);
      }
      if (c === 47) {
        this.pos = p + 1;
        return this.emit('attr-name', start, p, State.SelfClosing);
      }
      if (c === 61) {
        this.pos = p + 1;
        return this.emit('attr-name', start, p, State.BeforeAttrValue);
      }
      if (c === 62) {
        this.pos = p;
        return this.emit('attr-name', start, p, State.TagNameClose);
      }
    }
    this.pos = s.length;
    return this.emit('attr-name', start, s.length, State.Eof);
  }

  private afterAttrName(): boolean {
    const c = this.skipWhite();
    if (c < 0) return false;
    if (c === 47) {
      this.pos++;
      return this.selfClosing();
    }
    if (c === 61) {
      this.pos++;
      return this.beforeAttrValue();
    }
    if (c === 62) return this.tagNameClose();
    return this.attrName();
  }

  private beforeAttrValue(): boolean {
    const c = this.skipWhite();
    if (c < 0) {
      this.state = State.Eof;
      return false;
    }
    if (c === 34) return this.quotedValue('"');
    if (c === 39) return this.quotedValue("'");
    if (c === 96) return this.quotedValue('`'); // IE accepted back quotes.
    return this.unquotedValue();
  }

  private quotedValue(quote: string): boolean {
    const s = this.s;
    // At position 0 the input starts inside the value (a value context): there is no opening quote to skip.
    if (this.pos > 0) this.pos++;
    const start = this.pos;
    const end = s.indexOf(quote, start);
    if (end < 0) {
      this.pos = s.length;
      return this.emit('attr-value', start, s.length, State.Eof);
    }
    this.pos = end + 1;
    return this.emit('attr-value', start, end, State.AfterValueQuoted);
  }

  private unquotedValue(): boolean {
    const s = this.s;
    const start = this.pos;
    for (let p = start; p < s.length; p++) {
      const c = s.charCodeAt(p);
      if (isWhite(c)) {
        this.pos = p + 1;
        return this.emit('attr-value', start, p, State.BeforeAttrName);
      }
      if (c === 62) {
        this.pos = p;
        return this.emit('attr-value', start, p, State.TagNameClose);
      }
    }
    this.pos = s.length;
    return this.emit('attr-value', start, s.length, State.Eof);
  }

  private afterValueQuoted(): boolean {
    const s = this.s;
    if (this.pos >= s.length) return false;
    const c = s.charCodeAt(this.pos);
    if (isWhite(c)) {
      this.pos++;
      return this.beforeAttrName();
    }
    if (c === 47) {
      this.pos++;
      return this.selfClosing();
    }
    if (c === 62) {
      const start = this.pos;
      this.pos++;
      return this.emit('tag-end', start, start + 1, State.Data);
    }
    return this.beforeAttrName();
  }

  private selfClosing(): boolean {
    const s = this.s;
    if (this.pos >= s.length) return false;
    if (s.charCodeAt(this.pos) === 62) {
      if (this.pos === 0) return false;
      const start = this.pos - 1;
      this.pos++;
      return this.emit('tag-self-close', start, start + 2, State.Data);
    }
    return this.beforeAttrName();
  }

  private bogusComment(): boolean {
    const s = this.s;
    const start = this.pos;
    const gt = s.indexOf('>', start);
    if (gt < 0) {
      this.pos = s.length;
      return this.emit('comment', start, s.length, State.Eof);
    }
    this.pos = gt + 1;
    return this.emit('comment', start, gt, State.Data);
  }

  private bogusComment2(): boolean {
    const s = this.s;
    const start = this.pos;
    const end = s.indexOf('%>', start);
    if (end < 0) {
      this.pos = s.length;
      return this.emit('comment', start, s.length, State.Eof);
    }
    this.pos = end + 2;
    return this.emit('comment', start, end, State.Data);
  }

  private markupDeclaration(): boolean {
    const s = this.s;
    const p = this.pos;
    if (s.length - p >= 7 && s.slice(p, p + 7).toUpperCase() === 'DOCTYPE') return this.doctype();
    if (s.startsWith('[CDATA[', p)) {
      this.pos += 7;
      return this.cdata();
    }
    if (s.startsWith('--', p)) {
      this.pos += 2;
      return this.comment();
    }
    return this.bogusComment();
  }

  /** Comments end at `-->`, `--!>` (§13.2.5.50) or `-!>`, with NULs between the dashes ignored as IE did. */
  private comment(): boolean {
    const s = this.s;
    const n = s.length;
    const start = this.pos;
    let p = start;
    for (;;) {
      const dash = s.indexOf('-', p);
      if (dash < 0 || dash > n - 3) {
        this.pos = n;
        return this.emit('comment', start, n, State.Eof);
      }
      let q = dash + 1;
      while (q < n && s.charCodeAt(q) === 0) q++;
      if (q === n) {
        this.pos = n;
        return this.emit('comment', start, n, State.Eof);
      }
      const c = s.charCodeAt(q);
      if (c !== 45 && c !== 33) {
        p = dash + 1;
        continue;
      }
      q++;
      if (q === n) {
        this.pos = n;
        return this.emit('comment', start, n, State.Eof);
      }
      if (s.charCodeAt(q) !== 62) {
        p = dash + 1;
        continue;
      }
      this.pos = q + 1;
      return this.emit('comment', start, dash, State.Data);
    }
  }

  private cdata(): boolean {
    const s = this.s;
    const start = this.pos;
    const end = s.indexOf(']]>', start);
    if (end < 0) {
      this.pos = s.length;
      return this.emit('text', start, s.length, State.Eof);
    }
    this.pos = end + 3;
    return this.emit('text', start, end, State.Data);
  }

  private doctype(): boolean {
    const s = this.s;
    const start = this.pos;
    const gt = s.indexOf('>', start);
    if (gt < 0) {
      this.pos = s.length;
      return this.emit('doctype', start, s.length, State.Eof);
    }
    this.pos = gt + 1;
    return this.emit('doctype', start, gt, State.Data);
  }
}
