// Prints a QueryNode back as query text that parseQuery reads to the same tree (for links, logs and saved searches).
import { isQuerySpace } from './parse.js';
import type { QueryNode } from './ast.js';

// Characters with a meaning somewhere in the grammar; escaping them in a word keeps them literal.
const SPECIAL = new Set(['\\', '(', ')', '"', '*', '?', ':', '<', '>', '[', ']', '{', '}', '!', '-', '&', '|', '/', '^', '~', '+', '=']);

function escapeChar(c: string): string {
  return SPECIAL.has(c) || isQuerySpace(c) ? `\\${c}` : c;
}

/** A literal value as an unquoted word. */
function printWord(value: string, bare: boolean): string {
  let out = '';
  for (const c of value) out += escapeChar(c);
  // A bare `and`/`or`/`not` would read as an operator; escaping its first letter keeps it a word.
  if (bare && /^(?:and|or|not)$/i.test(value)) out = `\\${out}`;
  return out;
}

/** A wildcard pattern (`\` already escapes literal `*`, `?`, `\`) as an unquoted word. */
function printPattern(pattern: string, bare: boolean): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      out += `\\${pattern[++i]}`;
    } else if (c === '*' || c === '?') {
      out += c;
    } else {
      out += escapeChar(c);
    }
  }
  if (bare && /^(?:and|or|not)$/i.test(pattern)) out = `\\${out}`;
  return out;
}

export function quotePhrase(value: string): string {
  let out = '"';
  for (const c of value) out += c === '"' || c === '\\' ? `\\${c}` : c;
  return `${out}"`;
}

function printGrouped(node: QueryNode): string {
  const text = printQuery(node);
  return node.type === 'and' || node.type === 'or' ? `(${text})` : text;
}

export function printQuery(node: QueryNode): string {
  switch (node.type) {
    case 'all':
      return '*';
    case 'and':
      return node.children.map(printGrouped).join(' AND ');
    case 'or':
      return node.children.map(printGrouped).join(' OR ');
    case 'not':
      return `NOT ${printGrouped(node.child)}`;
    case 'exists':
      return `${node.field}:*`;
    case 'cidr':
      return `${node.field}:${quotePhrase(node.cidr)}`;
    case 'term': {
      const prefix = node.field === null ? '' : `${node.field}:`;
      const bare = node.field === null;
      if (node.phrase) return prefix + quotePhrase(node.value);
      return prefix + (node.wildcard ? printPattern(node.value, bare) : printWord(node.value, bare));
    }
    case 'range': {
      const low = node.gte ?? node.gt;
      const high = node.lte ?? node.lt;
      const open = node.gte !== undefined ? '[' : node.gt !== undefined ? '{' : '[';
      const close = node.lte !== undefined ? ']' : node.lt !== undefined ? '}' : ']';
      const lowText = low === undefined ? '*' : quotePhrase(low);
      const highText = high === undefined ? '*' : quotePhrase(high);
      return `${node.field}:${open}${lowText} TO ${highText}${close}`;
    }
  }
}
