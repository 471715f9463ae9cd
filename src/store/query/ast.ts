// The parsed form of Vigil's Lucene/KQL-style query language; engines compile it, they never see query text.

export type QueryNode =
  /** Matches every event (the empty query). */
  | { type: 'all' }
  | { type: 'and'; children: QueryNode[] }
  | { type: 'or'; children: QueryNode[] }
  | { type: 'not'; child: QueryNode }
  /**
   * `field:value`, `field:"a phrase"`, `field:adm*`; with `field` null a bare word or phrase,
   * searched in `message` and `event.original`. `wildcard` is true when `value` holds unescaped `*` or `?`.
   */
  | { type: 'term'; field: string | null; value: string; phrase: boolean; wildcard: boolean }
  /** `field:*`: the field is present. */
  | { type: 'exists'; field: string }
  /** `field:[a TO b]`, `field:{a TO b}`, `field>=n` …; bounds are kept as text and typed by the engine. */
  | { type: 'range'; field: string; gt?: string; gte?: string; lt?: string; lte?: string }
  /** `source.ip:10.0.0.0/8` or `source.ip:2001:db8::/32`. */
  | { type: 'cidr'; field: string; cidr: string };
