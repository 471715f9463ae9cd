// What a source hands its data to: the pipeline's entry, seen from the outside.

export interface LineOptions {
  /** Parser name: `auto`, `syslog`, `sshd`, `nginx`, `apache`, `json`. */
  format: string;
  /** Which input received the lines, for telemetry (`syslog_udp`, `http`, `file` …). */
  input: string;
  /** Default `host.name` for events whose line names no host. */
  hostName?: string;
  /** The sender's address (`log.source.address`), e.g. a syslog peer. */
  peer?: string;
  /** The file the lines came from (`log.file.path`). */
  filePath?: string;
  /** Forces the year of year-less timestamps. */
  year?: number;
  /** Positions (from 0) of lines the source cut to its length limit; they get the `_truncated` tag. */
  truncated?: readonly number[];
}

export interface DocumentOptions {
  input: string;
  hostName?: string;
  peer?: string;
  /** Used when a document carries no `event.dataset` (the Elasticsearch index name, say). */
  defaultDataset?: string;
  /**
   * Vigil's own records (detections, the audit trail): only these may carry a `vigil.*` dataset. A document from
   * any other input that claims one is stored under `external.vigil.…` with the `_vigil_reserved_dataset` tag.
   */
  trusted?: boolean;
}

export interface IngestError {
  /** Position of the item in the batch, from 0. */
  index: number;
  reason: string;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  errors: IngestError[];
  /** `event.id` of each item, in order (undefined for rejected ones). */
  ids: (string | undefined)[];
  /** Accepted events per `event.dataset`. */
  datasets?: Record<string, number>;
  /** Accepted lines that no parser understood (stored with the parse-error tag). */
  unparsed?: number;
  /** Accepted documents not stored again because their sender-chosen `event.id` was already stored. */
  duplicates?: number;
}

export interface Ingest {
  /**
   * Parses, normalizes and stores raw lines. Resolves once every accepted event is durably stored;
   * rejects with a `busy` VigilError (with retryAfter) when the pipeline is full, before taking anything.
   * Lines are never rejected for their content: a line no parser understands is stored with a parse-error tag.
   */
  ingestLines(lines: readonly string[], options: LineOptions): Promise<IngestResult>;
  /** Normalizes and stores ECS (or ECS-like) JSON documents; a non-object item is rejected with a reason. */
  ingestDocuments(documents: readonly unknown[], options: DocumentOptions): Promise<IngestResult>;
  /** True while the pipeline's queue is over its high-water mark; stream sources stop reading. */
  readonly congested: boolean;
  /** Calls `listener` once when the queue has drained below its low-water mark. */
  onDrain(listener: () => void): void;
  /**
   * Counts data lost before it reached the pipeline (a UDP datagram cut, a line over the limit …); `intentional`
   * when a policy dropped it (a rate limit), not a failure.
   */
  countDropped(input: string, reason: string, count?: number, intentional?: boolean): void;
}
