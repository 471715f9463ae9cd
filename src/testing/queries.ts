// Query trees for property tests of the SQL compilers: every node type, hostile field names, values carrying a marker
// that must never appear in the compiled SQL (user values travel only as bound parameters).
import fc from 'fast-check';
import type { QueryNode } from '../store/query/ast.js';

export function markedQueries(marker: string): fc.Arbitrary<QueryNode> {
  const value = fc.string({ maxLength: 10 }).map((s) => `${marker}${s}`);
  const field = fc.oneof(
    fc.constantFrom('user.name', 'source.ip', 'message', 'tags', 'event.category', '@timestamp', 'source.port', 'labels.env', 'error.message', 'toString', '__proto__'),
    fc.string({ maxLength: 12 }),
  );
  const leaf: fc.Arbitrary<QueryNode> = fc.oneof(
    fc.record({ type: fc.constant('term' as const), field: fc.option(field, { nil: null }), value, phrase: fc.boolean(), wildcard: fc.boolean() }),
    fc.record({ type: fc.constant('exists' as const), field }),
    fc.record({ type: fc.constant('range' as const), field: fc.constantFrom('user.name', 'labels.env', 'tags'), gte: value, lt: value }),
    fc.record({ type: fc.constant('cidr' as const), field, cidr: fc.constantFrom('10.0.0.0/8', '2001:db8::/32') }),
  );
  return fc.letrec<{ node: QueryNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((children): QueryNode => ({ type: 'and', children })),
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((children): QueryNode => ({ type: 'or', children })),
      tie('node').map((child): QueryNode => ({ type: 'not', child })),
    ),
  })).node;
}
