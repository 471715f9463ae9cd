// The condition language of Sigma rules (specification v2, "Condition"): identifiers, and/or/not, parentheses,
// `1 of pattern*`, `all of pattern*`, `1 of them`, `all of them`. Precedence, loosest first: or, and, not, x of,
// parentheses. A recursive-descent parser with a depth limit, so a hostile rule cannot exhaust the stack.

export type ConditionNode =
  | { type: 'id'; name: string }
  | { type: 'and'; args: ConditionNode[] }
  | { type: 'or'; args: ConditionNode[] }
  | { type: 'not'; arg: ConditionNode }
  | { type: 'of'; quantifier: 'any' | 'all'; pattern: string };

const MAX_DEPTH = 64;
const MAX_LENGTH = 8192;

export class ConditionError extends Error {}

type Token = { kind: 'word' | '(' | ')'; text: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, at: i });
      i++;
    } else if (/[A-Za-z0-9_*\-.]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_*\-.]/.test(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
    } else {
      throw new ConditionError(`unexpected character "${c}" at position ${i + 1}`);
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', 'all', 'any']);

/** Parses a condition string into a tree; throws ConditionError saying where it went wrong. */
export function parseCondition(text: string): ConditionNode {
  if (text.length > MAX_LENGTH) throw new ConditionError(`condition longer than ${MAX_LENGTH} characters`);
  if (text.includes('|')) {
    throw new ConditionError(
      'aggregation in the condition (`| count() …`, `| near …`, Sigma 1) is not supported: express it as a Sigma correlation rule',
    );
  }
  const tokens = tokenize(text);
  let pos = 0;
  const peekWord = (): string | undefined => {
    const t = tokens[pos];
    return t?.kind === 'word' ? t.text.toLowerCase() : undefined;
  };
  const where = (): string => (pos < tokens.length ? `position ${tokens[pos]!.at + 1}` : 'the end');

  function parseOr(depth: number): ConditionNode {
    if (depth > MAX_DEPTH) throw new ConditionError(`condition nested deeper than ${MAX_DEPTH} levels`);
    const args = [parseAnd(depth)];
    while (peekWord() === 'or') {
      pos++;
      args.push(parseAnd(depth));
    }
    return args.length === 1 ? args[0]! : { type: 'or', args };
  }

  function parseAnd(depth: number): ConditionNode {
    const args = [parseNot(depth)];
    while (peekWord() === 'and') {
      pos++;
      args.push(parseNot(depth));
    }
    return args.length === 1 ? args[0]! : { type: 'and', args };
  }

  function parseNot(depth: number): ConditionNode {
    if (peekWord() === 'not') {
      pos++;
      if (depth > MAX_DEPTH) throw new ConditionError(`condition nested deeper than ${MAX_DEPTH} levels`);
      return { type: 'not', arg: parseNot(depth + 1) };
    }
    return parsePrimary(depth);
  }

  function parsePrimary(depth: number): ConditionNode {
    const t = tokens[pos];
    if (t === undefined) throw new ConditionError('condition ends where an identifier was expected');
    if (t.kind === '(') {
      pos++;
      const inner = parseOr(depth + 1);
      if (tokens[pos]?.kind !== ')') throw new ConditionError(`missing ")" at ${where()}`);
      pos++;
      return inner;
    }
    if (t.kind !== 'word') throw new ConditionError(`unexpected "${t.text}" at position ${t.at + 1}`);
    const word = t.text.toLowerCase();
    const next = tokens[pos + 1];
    if (next?.kind === 'word' && next.text.toLowerCase() === 'of') {
      let quantifier: 'any' | 'all';
      if (word === 'all') quantifier = 'all';
      else if (word === '1' || word === 'any') quantifier = 'any';
      else if (/^\d+$/.test(word)) throw new ConditionError(`"${t.text} of" is not supported: Sigma allows "1 of" and "all of"`);
      else throw new ConditionError(`"${t.text} of" at position ${t.at + 1}: expected "1 of" or "all of"`);
      const target = tokens[pos + 2];
      if (target?.kind !== 'word') throw new ConditionError(`"${t.text} of" at position ${t.at + 1} needs "them" or an identifier pattern`);
      pos += 3;
      const pattern = target.text.toLowerCase() === 'them' ? 'them' : target.text;
      return { type: 'of', quantifier, pattern };
    }
    if (KEYWORDS.has(word)) throw new ConditionError(`unexpected "${t.text}" at position ${t.at + 1}`);
    if (t.text.includes('*')) throw new ConditionError(`the pattern "${t.text}" needs "1 of" or "all of" before it`);
    pos++;
    return { type: 'id', name: t.text };
  }

  if (tokens.length === 0) throw new ConditionError('empty condition');
  const tree = parseOr(0);
  if (pos < tokens.length) throw new ConditionError(`unexpected "${tokens[pos]!.text}" at position ${tokens[pos]!.at + 1}`);
  return tree;
}

/** Identifier pattern of `1 of sel*`: `*` matches any run of characters. */
export function identifierMatches(pattern: string, name: string): boolean {
  if (pattern === 'them') return !name.startsWith('_');
  const pieces = pattern.split('*');
  if (pieces.length === 1) return pattern === name;
  if (!name.startsWith(pieces[0]!)) return false;
  let from = pieces[0]!.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const at = name.indexOf(pieces[i]!, from);
    if (at < 0) return false;
    from = at + pieces[i]!.length;
  }
  const last = pieces[pieces.length - 1]!;
  return name.length - last.length >= from && name.endsWith(last);
}

/** Identifiers the condition names, directly or through patterns, given the detection's identifiers. */
export function referencedIdentifiers(node: ConditionNode, identifiers: readonly string[]): Set<string> {
  const out = new Set<string>();
  const walk = (n: ConditionNode): void => {
    if (n.type === 'id') {
      out.add(n.name);
    } else if (n.type === 'not') {
      walk(n.arg);
    } else if (n.type === 'of') {
      for (const id of identifiers) if (identifierMatches(n.pattern, id)) out.add(id);
    } else {
      for (const a of n.args) walk(a);
    }
  };
  walk(node);
  return out;
}
