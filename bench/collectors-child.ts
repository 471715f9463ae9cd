// The process bench/collectors.ts measures (compiled to JavaScript first, as `vigil` runs): `collect` runs every host
// collector at its default intervals and serializes each event as the agent would before writing it; `idle` loads
// the same code and does nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/config.js';
import type { DocumentOptions, Ingest, IngestResult, LineOptions } from '../src/core/ingest.js';
import { startHostCollectors } from '../src/sources/host/index.js';

const mode = process.argv[2];
let events = 0;
let bytes = 0;

/** Takes what the collectors send and serializes it, as the agent does before its buffer; keeps nothing. */
const sink: Ingest = {
  congested: false,
  async ingestLines(lines: readonly string[], _options: LineOptions): Promise<IngestResult> {
    events += lines.length;
    return { accepted: lines.length, rejected: 0, errors: [], ids: [] };
  },
  async ingestDocuments(documents: readonly unknown[], _options: DocumentOptions): Promise<IngestResult> {
    for (const d of documents) bytes += JSON.stringify(d).length;
    events += documents.length;
    return { accepted: documents.length, rejected: 0, errors: [], ids: [] };
  },
  onDrain: (listener) => queueMicrotask(listener),
  countDropped: () => undefined,
};

if (mode === 'collect') {
  // The defaults of `vigil start`: every collector on, default intervals.
  const config = parseConfig({});
  const host = await startHostCollectors(config.collect, { ingest: sink, dataDir: mkdtempSync(join(tmpdir(), 'vigil-bench-collect-')), warn: () => undefined });
  process.on('message', () => {
    process.send!({ events, bytes, collectors: host.collectors.map((c) => ({ name: c.name, ...c.status() })) });
  });
} else {
  process.on('message', () => process.send!({ events: 0, bytes: 0, collectors: [] }));
}
// Stay alive until the parent says stop.
setInterval(() => undefined, 1 << 30);
process.send!({ ready: true });
