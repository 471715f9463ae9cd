// Cross-site scripting detection the way libinjection does it: tokenize the input as HTML in each place it could
// land in a page (text, or inside an unquoted, '…', "…" or `…` attribute value) and report the tokens that run
// script: dangerous tags, event handler attributes, script URLs in URL attributes, style attributes, DOCTYPE and
// IE's comment tricks. Script URLs given as a whole value (`javascript:…`) and CSS expressions count too.
import { inputCandidates } from './decode.js';
import { type HtmlContext, HtmlTokenizer } from './html5.js';

/** Tags that load or run code by themselves (libinjection's list; svg… and xsl… are matched by prefix). */
const DANGEROUS_TAGS = new Set(['APPLET', 'BASE', 'COMMENT', 'EMBED', 'FRAME', 'FRAMESET', 'HANDLER', 'IFRAME',
  'IMPORT', 'ISINDEX', 'LINK', 'LISTENER', 'META', 'NOSCRIPT', 'OBJECT', 'SCRIPT', 'STYLE', 'VMLFRAME', 'XML', 'XSS',
  'MATH', 'TEMPLATE']);

type AttributeKind = 'none' | 'dangerous' | 'url' | 'style' | 'indirect';

/** Attributes whose value is a URL, a style, or always dangerous (libinjection's list). */
const ATTRIBUTES: Record<string, AttributeKind> = {
  ACTION: 'url', ATTRIBUTENAME: 'indirect', BY: 'url', BACKGROUND: 'url', DATAFORMATAS: 'dangerous',
  DATASRC: 'dangerous', DYNSRC: 'url', FILTER: 'style', FORMACTION: 'url', FOLDER: 'url', FROM: 'url',
  HANDLER: 'url', HREF: 'url', LOWSRC: 'url', POSTER: 'url', SRC: 'url', STYLE: 'style', TO: 'url', VALUES: 'url',
  'XLINK:HREF': 'url', SRCDOC: 'dangerous', DATA: 'url', CODEBASE: 'url',
};

/** Upper-cases ASCII letters and drops NULs, which old browsers ignored inside names. */
function normalizeName(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) continue;
    out += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : s[i];
  }
  return out;
}

function tagIsDangerous(name: string): boolean {
  if (name.length < 3) return false;
  const upper = normalizeName(name);
  return DANGEROUS_TAGS.has(upper) || upper.startsWith('SVG') || upper.startsWith('XSL');
}

function attributeKind(name: string): AttributeKind {
  if (name.length < 2) return 'none';
  const upper = normalizeName(name);
  // Event handlers: on + an event name (letters only, as every DOM event name is).
  if (upper.length >= 5 && upper.startsWith('ON') && /^[A-Z]+$/.test(upper.slice(2))) return 'dangerous';
  // xmlns and xlink let a document declare new tags and links.
  if (upper.startsWith('XMLNS') || upper.startsWith('XLINK')) return upper === 'XLINK:HREF' ? 'url' : 'dangerous';
  return Object.hasOwn(ATTRIBUTES, upper) ? ATTRIBUTES[upper]! : 'none';
}

/** Schemes that run script (or embed a document) when followed. */
const SCRIPT_SCHEMES = ['JAVASCRIPT:', 'VBSCRIPT:', 'LIVESCRIPT:', 'VIEW-SOURCE:', 'DATA:'];

/**
 * Whether a URL attribute's value starts with a script scheme, reading it as a browser does: leading control
 * characters and spaces are skipped, character references decoded, tabs and newlines inside the scheme ignored.
 */
function isScriptUrl(value: string): boolean {
  let i = 0;
  const n = value.length;
  while (i < n && (value.charCodeAt(i) <= 32 || value.charCodeAt(i) >= 127)) i++;
  let prefix = '';
  while (i < n && prefix.length < 12) {
    const { char, next } = htmlCharAt(value, i);
    i = next;
    const c = char.charCodeAt(0);
    if (c === 0 || c === 9 || c === 10 || c === 13) continue;
    prefix += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : char;
    if (!SCRIPT_SCHEMES.some((scheme) => scheme.startsWith(prefix))) return false;
    if (SCRIPT_SCHEMES.includes(prefix)) return true;
  }
  return false;
}

/** The character at `i`, decoding one `&#…;`, `&#x…;` or `&colon;`-style reference. */
function htmlCharAt(s: string, i: number): { char: string; next: number } {
  if (s.charCodeAt(i) !== 38) return { char: s[i]!, next: i + 1 };
  if (s.charCodeAt(i + 1) === 35) {
    let j = i + 2;
    const hex = (s.charCodeAt(j) | 32) === 120;
    if (hex) j++;
    const start = j;
    let value = 0;
    while (j < s.length && j - start < 10) {
      const c = s.charCodeAt(j);
      const d = c >= 48 && c <= 57 ? c - 48 : hex && (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : -1;
      if (d < 0) break;
      value = value * (hex ? 16 : 10) + d;
      j++;
    }
    if (j > start && value <= 0x10ffff) {
      if (s.charCodeAt(j) === 59) j++;
      return { char: String.fromCodePoint(value), next: j };
    }
    return { char: '&', next: i + 1 };
  }
  for (const [name, char] of [['colon;', ':'], ['tab;', '\t'], ['newline;', '\n']] as const) {
    if (s.slice(i + 1, i + 1 + name.length).toLowerCase() === name) return { char, next: i + 1 + name.length };
  }
  return { char: '&', next: i + 1 };
}

const CONTEXTS: HtmlContext[] = ['data', 'value-unquoted', 'value-single', 'value-double', 'value-back'];

/** The first script-running construct found when `text` lands in `context`, or undefined. */
function scanHtml(text: string, context: HtmlContext): string | undefined {
  const tokenizer = new HtmlTokenizer(text, context);
  let attr: AttributeKind = 'none';
  let attrName = '';
  for (let token = tokenizer.next(); token !== undefined; token = tokenizer.next()) {
    const value = text.slice(token.start, token.end);
    if (token.type !== 'attr-value') attr = 'none';
    switch (token.type) {
      case 'doctype':
        return 'doctype';
      case 'tag-open':
        if (tagIsDangerous(value)) return `tag <${value.toLowerCase()}>`;
        break;
      case 'attr-name':
        attr = attributeKind(value);
        attrName = value.toLowerCase();
        break;
      case 'attr-value':
        if (attr === 'dangerous') return `attribute ${attrName}`;
        if (attr === 'style') return `style attribute ${attrName}`;
        if (attr === 'url' && isScriptUrl(value)) return `script URL in ${attrName}`;
        if (attr === 'indirect' && attributeKind(value) !== 'none') return `attribute name in ${attrName}`;
        attr = 'none';
        break;
      case 'comment': {
        // IE ended tags at a back quote, ran conditional comments, and read `<?import` and XML entity definitions.
        if (value.includes('`')) return 'back quote in comment';
        const upper = normalizeName(value.slice(0, 8));
        if (value.length > 3 && (upper.startsWith('[IF') || upper.startsWith('XML'))) return 'conditional comment';
        if (value.length > 5 && (upper.startsWith('IMPORT') || upper.startsWith('ENTITY'))) return 'import or entity';
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}

/** A whole value that is a script URL (an open redirect or a link target), e.g. `javascript:alert(1)`. */
function scriptUrlValue(text: string): string | undefined {
  if (!isScriptUrl(text)) return undefined;
  const upper = normalizeName(text.trimStart().slice(0, 40)).replace(/[\t\n\r]/g, '');
  // A data: URL is dangerous when it carries a document or script, not an image.
  if (upper.startsWith('DATA:') && !/^DATA:\s*(TEXT\/HTML|IMAGE\/SVG|APPLICATION\/(X-)?(JAVA|ECMA)SCRIPT|TEXT\/(JAVA|ECMA)SCRIPT|APPLICATION\/XHTML|[^,]*;BASE64,PH)/.test(upper)) return undefined;
  return 'script URL';
}

/** CSS that runs script: IE's expression(), Mozilla's -moz-binding, IE's behavior. */
const CSS_SCRIPT = /expression\s*\(|-moz-binding\s*:|behavior\s*:\s*url/i;

/** The reason `text` (already decoded) is XSS, or undefined. */
export function xssReason(text: string): string | undefined {
  if (text.length === 0) return undefined;
  for (const context of CONTEXTS) {
    const reason = scanHtml(text, context);
    if (reason !== undefined) return reason;
  }
  return scriptUrlValue(text) ?? (CSS_SCRIPT.test(text) ? 'CSS expression' : undefined);
}

export interface XssExplanation {
  match: boolean;
  /** What was found, e.g. `tag <script>` or `attribute onerror`. */
  reason?: string;
  /** The query parameter whose value matched, if the value was a query string. */
  param?: string;
  input?: string;
}

export function explainXss(value: string): XssExplanation {
  for (const candidate of inputCandidates(value)) {
    const reason = xssReason(candidate.text);
    if (reason !== undefined) return { match: true, reason, param: candidate.param, input: candidate.text };
  }
  return { match: false };
}

/** True when `value` carries markup or a URL that would run script if reflected into a page. */
export function xss(value: string): boolean {
  return explainXss(value).match;
}
