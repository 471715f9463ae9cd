// Log4Shell (CVE-2021-44228) and its relatives: a Log4j lookup `${jndi:ldap://…}` that makes a vulnerable logger
// fetch and run remote code. Attackers hide the word `jndi` behind nested lookups that Log4j resolves first —
// `${${lower:j}ndi:`, `${${::-j}${::-n}${::-d}${::-i}:`, `${${env:X:-j}ndi:`, `${j${k8s:k5:-ND}i:` — so the value is
// evaluated the way Log4j's StrSubstitutor would, in one linear pass with a stack, and every lookup whose resolved
// prefix is `jndi` is reported. Percent-, `\u`- and `\x`-escapes are undone first.
import { htmlDecode, percentDecode, unescapeLog } from './decode.js';

/** Characters kept of one lookup's text: the prefix and default are short; padding beyond this cannot hide `jndi`. */
const MAX_LOOKUP = 512;

/** `\u0024\u007b` (JSON, Java) and `\x24` escapes of `${`. */
function unescapeJava(s: string): string {
  if (!s.includes('\\u') && !s.includes('\\x')) return s;
  return unescapeLog(s).replace(/\\u([0-9a-fA-F]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * What a lookup with body `body` (its nested lookups already resolved) turns into when the attacker's variables do
 * not exist: `${name:-default}` → default, `${lower:x}`/`${upper:x}` → x, `${date:'x'}` → x, `${::-x}` → x.
 */
function resolveLookup(body: string): string {
  const dash = body.indexOf(':-');
  if (dash >= 0) return body.slice(dash + 2);
  const colon = body.indexOf(':');
  if (colon < 0) return '';
  const prefix = body.slice(0, colon).trim().toLowerCase();
  const rest = body.slice(colon + 1);
  if (prefix === 'lower') return rest.toLowerCase();
  if (prefix === 'upper') return rest.toUpperCase();
  if (prefix === 'date') return rest.replace(/'/g, '');
  return '';
}

/** Whether a resolved lookup body is a JNDI lookup (`jndi:…`; Log4j lower-cases the prefix). */
function isJndi(body: string): boolean {
  const colon = body.indexOf(':');
  return colon >= 0 && body.slice(0, colon).trim().toLowerCase() === 'jndi';
}

export interface JndiExplanation {
  match: boolean;
  /** The resolved lookup, e.g. `jndi:ldap://203.0.113.5/a`. */
  lookup?: string;
}

/**
 * Undoes percent-encoding, Java/JSON `\u` escapes and HTML character references (`$&lbrace;`, `&#36;{`), which
 * applications decode before logging, until nothing changes (three rounds at most).
 */
function normalize(value: string): string {
  let s = value;
  for (let round = 0; round < 3; round++) {
    const next = htmlDecode(unescapeJava(percentDecode(s)));
    if (next === s) break;
    s = next;
  }
  return s;
}

/**
 * One pass of lookup evaluation: a stack of open lookups, each holding its text with inner lookups replaced by
 * their values. Returns the first JNDI lookup, and the text with every lookup replaced (which may form new lookups,
 * as `${::-$}{jndi:…}` does, so the caller evaluates it again).
 */
function evaluate(s: string): { lookup?: string; output: string } {
  const stack: string[] = [];
  let output = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 36 && s.charCodeAt(i + 1) === 123) {
      stack.push('');
      i++;
      continue;
    }
    if (stack.length === 0) {
      output += s[i];
      continue;
    }
    if (c === 125) {
      const body = stack.pop()!;
      if (isJndi(body)) return { lookup: body.slice(0, 200), output };
      const value = resolveLookup(body);
      if (stack.length > 0) stack[stack.length - 1] = append(stack[stack.length - 1]!, value);
      else output += value;
      continue;
    }
    stack[stack.length - 1] = append(stack[stack.length - 1]!, s[i]!);
  }
  // A lookup cut off by a length limit still shows the attempt.
  for (const body of stack) if (isJndi(body)) return { lookup: body.slice(0, 200), output };
  return { output: output + stack.map((body) => '${' + body).join('') };
}

export function explainJndi(value: string): JndiExplanation {
  let s = normalize(value);
  for (let round = 0; round < 3 && s.includes('${'); round++) {
    const result = evaluate(s);
    if (result.lookup !== undefined) return { match: true, lookup: result.lookup };
    if (result.output === s) break;
    s = result.output;
  }
  return { match: false };
}

function append(text: string, more: string): string {
  if (text.length + more.length <= MAX_LOOKUP) return text + more;
  return text.length >= MAX_LOOKUP ? text : (text + more).slice(0, MAX_LOOKUP);
}

/** True when `value` holds a Log4j JNDI lookup, however its lookups are nested or encoded. */
export function jndi(value: string): boolean {
  return explainJndi(value).match;
}
