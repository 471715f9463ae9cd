// An Ingest for source tests: it keeps what a source hands over (documents and lines) and can say `busy` a few
// times first; waiting helpers resolve when something matching has arrived. The real pipeline is tested elsewhere.
import { VigilError } from '../core/errors.js';
import type { DocumentOptions, Ingest, IngestResult, LineOptions } from '../core/ingest.js';

export type Doc = Record<string, unknown> & { event: Record<string, unknown> };

export class RecordingIngest implements Ingest {
  readonly documents: Doc[] = [];
  readonly lines: { line: string; options: LineOptions }[] = [];
  readonly dropped = new Map<string, number>();
  congested = false;
  private busyLeft: number;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(options: { busy?: number } = {}) {
    this.busyLeft = options.busy ?? 0;
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }

  async ingestLines(lines: readonly string[], options: LineOptions): Promise<IngestResult> {
    if (this.busyLeft > 0) {
      this.busyLeft--;
      throw new VigilError('busy', 'the pipeline is full', { retryAfter: 0 });
    }
    for (const line of lines) this.lines.push({ line, options });
    this.check();
    return { accepted: lines.length, rejected: 0, errors: [], ids: lines.map(() => undefined) };
  }

  async ingestDocuments(documents: readonly unknown[], _options: DocumentOptions): Promise<IngestResult> {
    if (this.busyLeft > 0) {
      this.busyLeft--;
      throw new VigilError('busy', 'the pipeline is full', { retryAfter: 0 });
    }
    for (const d of documents) this.documents.push(structuredClone(d) as Doc);
    this.check();
    return { accepted: documents.length, rejected: 0, errors: [], ids: documents.map(() => undefined) };
  }

  onDrain(listener: () => void): void {
    setImmediate(listener);
  }

  countDropped(input: string, reason: string, count = 1): void {
    const key = `${input}/${reason}`;
    this.dropped.set(key, (this.dropped.get(key) ?? 0) + count);
  }

  /** Documents with this `event.action` (or, for metrics, `metricset.name`). */
  find(what: { action?: string; metricset?: string; dataset?: string }): Doc[] {
    return this.documents.filter(
      (d) =>
        (what.action === undefined || d.event.action === what.action) &&
        (what.dataset === undefined || d.event.dataset === what.dataset) &&
        (what.metricset === undefined || (d.metricset as { name?: string } | undefined)?.name === what.metricset),
    );
  }

  /** Resolves once `test` holds (checked after every delivery), or rejects after `ms`. */
  waitFor(test: () => boolean, ms = 15_000, what = 'the expected events'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ test, resolve: done });
    });
  }
}
