// Cross-site scripting detection the way libinjection does it: tokenize the input as HTML in each place it could
// land in a page (text, or inside an unquoted, '…', "…" or `…` attribute value) and report the tokens that run
// script: dangerous tags, event handler attributes, script URLs in URL attributes, style attributes, DOCTYPE and
// IE's comment tricks. Vigil adds what lands outside markup: script URLs and script-running calls in a value that a
// page puts inside a script or a link (`";alert(1)//`, `javascript:…`, `document.cookie`), CSS expressions, and
// the encodings browsers and servers undo (UTF-8 full-width `＜`, UTF-7 `+ADw-`, character references).
import { foldFullwidth, htmlDecode, inputCandidates, referenceAt, utf8Decode } from './decode.js';
import { type HtmlContext, HtmlTokenizer } from './html5.js';

/** Tags that load or run code by themselves (libinjection's list; svg… and xsl… are matched by prefix). */
const DANGEROUS_TAGS = new Set(['APPLET', 'BASE', 'COMMENT', 'EMBED', 'FRAME', 'FRAMESET', 'HANDLER', 'IFRAME',
  'IMPORT', 'ISINDEX', 'LINK', 'LISTENER', 'META', 'NOSCRIPT', 'OBJECT', 'SCRIPT', 'STYLE', 'VMLFRAME', 'XML', 'XSS']);

type AttributeKind = 'none' | 'dangerous' | 'url' | 'style' | 'indirect';

/** Attributes whose value is a URL, a style, or always dangerous (libinjection's list, plus srcdoc and data). */
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
  let upper = normalizeName(name);
  // A namespace prefix does not change what the element is (`<v:vmlframe>`, `<svg:script>`).
  const colon = upper.lastIndexOf(':');
  if (colon >= 0) upper = upper.slice(colon + 1);
  return DANGEROUS_TAGS.has(upper) || upper.startsWith('SVG') || upper.startsWith('XSL');
}

function attributeKind(name: string): AttributeKind {
  if (name.length < 2) return 'none';
  const upper = normalizeName(name);
  // Event handlers: on + an event name. Gecko read `onload!#$%…=` as onload, so only the start must be letters.
  if (/^ON[A-Z]{3}/.test(upper)) return 'dangerous';
  // xmlns and xlink let a document declare new tags and links.
  if (upper.startsWith('XMLNS') || upper.startsWith('XLINK')) return upper === 'XLINK:HREF' ? 'url' : 'dangerous';
  return Object.hasOwn(ATTRIBUTES, upper) ? ATTRIBUTES[upper]! : 'none';
}

/** Schemes that run script (or render a document) when followed. `mocha:` and `livescript:` are Netscape's. */
const SCRIPT_SCHEMES = ['JAVASCRIPT:', 'VBSCRIPT:', 'LIVESCRIPT:', 'MOCHA:', 'VIEW-SOURCE:', 'DATA:'];

/**
 * Whether a URL attribute's value starts with a script scheme, reading it as a browser does: leading spaces and
 * control characters are skipped (after decoding character references), control characters inside the scheme are
 * ignored. A scheme whose letters are spelled as character references counts from its fourth letter
 * (`&#106;&#97;&#118;&#97;…`): nobody encodes `java` to link to a page.
 */
function isScriptUrl(value: string): boolean {
  let i = 0;
  const n = value.length;
  let prefix = '';
  let encoded = false;
  while (i < n && prefix.length < 12) {
    const { char, next, reference } = htmlCharAt(value, i);
    i = next;
    const c = char.charCodeAt(0);
    // Before the scheme, spaces and controls are skipped; inside it, controls only (`java\tscript:`), not spaces.
    if (prefix.length === 0 ? c <= 32 || (c >= 127 && c <= 160) : c < 32) continue;
    if (reference && /[A-Za-z]/.test(char)) encoded = true;
    prefix += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : char;
    if (!SCRIPT_SCHEMES.some((scheme) => scheme.startsWith(prefix))) return false;
    if (SCRIPT_SCHEMES.includes(prefix)) return true;
  }
  return encoded && prefix.length >= 4;
}

/** The character at `i`, decoding one character reference. */
function htmlCharAt(s: string, i: number): { char: string; next: number; reference: boolean } {
  if (s.charCodeAt(i) === 38) {
    const ref = referenceAt(s, i);
    if (ref !== undefined) return { char: ref.char, next: ref.next, reference: true };
  }
  return { char: s[i]!, next: i + 1, reference: false };
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
        // `<x onerror=` with the value cut off (or still to come) is the same attempt.
        if (attr === 'dangerous' && text.charCodeAt(token.end) === 61 && token.end + 1 >= text.length) {
          return `attribute ${attrName}`;
        }
        break;
      case 'attr-value':
        if (attr === 'dangerous') return `attribute ${attrName}`;
        if (attr === 'style') return `style attribute ${attrName}`;
        if (attr === 'url' && isScriptUrl(value)) return `script URL in ${attrName}`;
        if (attr === 'indirect' && attributeKind(value) !== 'none') return `attribute name in ${attrName}`;
        // Netscape's JavaScript entities `&{…};` ran in any attribute.
        if (value.includes('&{')) return 'script entity';
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

/**
 * A dangerous tag right after any `<`, whatever the tokenizer made of what came before: `<scr<script>ipt>` is
 * `<script>` once a filter removes the inner tag, and `</script>` closes the block a value was placed in.
 */
const TAG_ANYWHERE = new RegExp(String.raw`<\/?(?:[a-z]+:)?(?:` + ['script', 'iframe', 'frameset', 'object', 'embed',
  'applet', 'svg', 'math', 'base', 'meta', 'link', 'style', 'xml', 'vmlframe', 'isindex', 'form', 'input', 'body', 'img',
  'video', 'audio', 'details', 'marquee', 'frame'].join('|') + String.raw`)(?=[\s/>]|$)`, 'i');
/** Tags that are harmless by themselves but common carriers: they count with an event handler anywhere after. */
const CARRIER_TAGS = new Set(['FORM', 'INPUT', 'BODY', 'IMG', 'VIDEO', 'AUDIO', 'DETAILS', 'MARQUEE']);

function tagAnywhere(text: string): string | undefined {
  const m = TAG_ANYWHERE.exec(text);
  if (m === null) return undefined;
  const name = normalizeName(m[0].replace(/^<\/?(?:[a-z]+:)?/i, ''));
  if (CARRIER_TAGS.has(name)) {
    const after = text.slice(m.index);
    return /\son[a-z]{3,}\s*=/i.test(after) ? `tag <${name.toLowerCase()}> with event handler` : undefined;
  }
  return `tag <${m[0].slice(1).toLowerCase()}>`;
}

/**
 * Removes what a JavaScript parser ignores around names, so that `document /*x*\/ . cookie` and
 * `window["alert"]` read as `document.cookie` and `window.alert`: comments, runs of white space, and bracket
 * access with a string. Linear: one scan for comments, single-pass replacements after it.
 */
function jsFold(text: string): string {
  let out = '';
  let i = 0;
  for (let open = text.indexOf('/*'); open >= 0; open = text.indexOf('/*', i)) {
    const close = text.indexOf('*/', open + 2);
    out += text.slice(i, open) + ' ';
    i = close < 0 ? text.length : close + 2;
    if (close < 0) break;
  }
  out += text.slice(i);
  return out
    .replace(/\s+/g, ' ')
    .replace(/\[ ?(["'`])([\w$]+)\1 ?\]/g, '.$2')
    .replaceAll(' .', '.')
    .replaceAll('. ', '.')
    .toLowerCase();
}

/**
 * Calls and properties that script written to prove XSS or steal a session uses: alert/prompt/confirm with a
 * literal or page object, cookie and domain read into or set by an expression, document.write, location used as a
 * value or assigned, eval
 * and timers on strings, global objects indexed by a computed name (`top["al"+"ert"]`), and the constructor trick.
 * A sentence that mentions `document.cookie` or `window.location` without using them does not match.
 */
const JS_SINKS = new RegExp([
  /(?:^|[^\w$.])(?:alert|prompt|confirm)(?: ?\( ?(?:[\d'"`/)\-[]|document|window|this|self|top|parent|string|location|navigator|origin)|`)/,
  /(?:^|[+(=,:;]) ?document\.(?:cookie|domain)|document\.(?:cookie|domain) ?(?:$|[;)+,=])/,
  /document\.write(?:ln)? ?\(/,
  /(?:window|document|self|top|parent)\.location(?:\.href)? ?(?:=[^=]|$|[;)+,])|location\.(?:replace|assign) ?\(/,
  /(?:window|self|top|parent|this|globalthis|frames)\.(?:alert|prompt|confirm|eval|execscript|settimeout) ?\(/,
  /(?:window|self|top|parent|globalthis|frames)\[/,
  /\.(?:inner|outer)html ?=/,
  /string\.fromcharcode ?\(/,
  /(?:^|[^\w$.])(?:eval|settimeout|setinterval|execscript) ?\( ?(?:["'`]|atob|string|unescape|decodeuri|location|name)/,
  /(?:^|[^\w$.])atob ?\(/,
  /\.constructor ?\(/,
  /\bimport ?\( ?['"`]/,
  /fetch ?\( ?['"`](?:https?:)?\/\//,
].map((part) => part.source).join('|'));

/** Script schemes written anywhere as the start of a value, attribute or CSS `url(`. */
const SCHEME_ANYWHERE = /(?:^|[\s"'`(=:,;>\\])(?:java|vb|live)script:(?! )\S|(?:^|[\s"'`(=,;>])mocha:\S/;

/** CSS that runs script: IE's expression(), Mozilla's -moz-binding, IE's behavior, Opera's -o-link. */
const CSS_SCRIPT = /expression ?\(|-moz-binding ?:|behavior ?: ?url|-o-link ?:/;

/** JSFuck and similar: JavaScript written with `[]()!+` only. */
const JSFUCK = /\(!\[\]|\+\[\]|\[\]\[|!\+\[\]|!!\[\]/;

/** `\u003c` escapes, which a page decodes when it puts a value into a script string and then into the DOM. */
function unescapeJs(s: string): string {
  if (!s.includes('\\u')) return s;
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Characters one of which every finding needs: markup, a scheme's colon, a call, a property, an index. */
const MAY_BE_SCRIPT = /[<=:(.`[&]/;

/** UTF-7 `+ADw-` and `+AD4-` are `<` and `>` to a page served as UTF-7 (old IE sniffed it). */
function utf7Fold(s: string): string {
  if (!s.includes('+AD')) return s;
  return s.replaceAll('+ADw-', '<').replaceAll('+AD4-', '>').replaceAll('+ACI-', '"').replaceAll('+ACc-', "'");
}

/**
 * The reason `raw` (already URL-decoded) is XSS, or undefined. `dataOnly` reads it as page text only, not as the
 * inside of an attribute (for a whole query string, whose `'` and `=` belong to different parameters).
 */
export function xssReason(raw: string, dataOnly = false): string | undefined {
  if (raw.length === 0) return undefined;
  const text = utf7Fold(foldFullwidth(unescapeJs(utf8Decode(raw))));
  // Nothing below can match text without one of these characters (most values), so skip the work.
  if (!MAY_BE_SCRIPT.test(text)) return undefined;
  // Markup needs a tag, an attribute value or a Netscape script entity.
  if (text.includes('<') || text.includes('=') || text.includes('&{')) {
    for (const context of dataOnly ? CONTEXTS.slice(0, 1) : CONTEXTS) {
      const reason = scanHtml(text, context);
      if (reason !== undefined) return reason;
    }
    const tag = tagAnywhere(text);
    if (tag !== undefined) return tag;
  }
  const decoded = htmlDecode(text).replace(/[\u0000-\u001f]/g, '');
  if (decoded.includes(':')) {
    const trimmed = text.replace(/^[\s"'`>]+/, '');
    if (isScriptUrl(trimmed) && scriptUrlIsDangerous(trimmed)) return 'script URL';
    if (SCHEME_ANYWHERE.test(decoded.toLowerCase())) return 'script URL';
  }
  // Every sink needs a call, a template, an index, an assignment, a CSS colon, or names document or location.
  if (/[(`[=:]|document|location/i.test(decoded)) {
    const js = jsFold(decoded);
    if (JS_SINKS.test(js)) return 'script call';
    if (CSS_SCRIPT.test(js)) return 'CSS expression';
  }
  if (text.includes('[') && JSFUCK.test(text)) return 'JSFuck';
  return undefined;
}

/** data: URLs of documents and scripts (`PH` starts base64 of `<`), not images. */
const DANGEROUS_DATA = new RegExp(String.raw`^DATA:(?:TEXT\/HTML|IMAGE\/SVG|APPLICATION\/(?:X-)?(?:JAVA|ECMA)SCRIPT|`
  + String.raw`TEXT\/(?:JAVA|ECMA)SCRIPT|APPLICATION\/XHTML|[^,]*;BASE64,PH)`);

/** A data: URL is dangerous when it carries a document or script, not an image. */
function scriptUrlIsDangerous(text: string): boolean {
  const upper = normalizeName(text.slice(0, 60)).replace(/[\s\u0000-\u001f]/g, '');
  if (!upper.startsWith('DATA:')) return true;
  return DANGEROUS_DATA.test(upper);
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
    const reason = xssReason(candidate.text, candidate.whole === true);
    if (reason !== undefined) return { match: true, reason, param: candidate.param, input: candidate.text };
  }
  return { match: false };
}

/** True when `value` carries markup, a URL or a script call that would run if reflected into a page. */
export function xss(value: string): boolean {
  return explainXss(value).match;
}
