// The audit trail's one way in: a record is appended to `audit.jsonl` in the data directory and fsynced before the
// action it records is answered, by the server and by the `vigil` command alike (which may run while no server
// does). The server's shipper (shipper.ts) then stores each line as a `vigil.audit` event through the pipeline.
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { auditEvent, type AuditRecord } from './event.js';

export const AUDIT_JOURNAL = 'audit.jsonl';

/** Largest record line: details are small by design; a bigger one is cut to its summary rather than refused. */
const MAX_LINE_BYTES = 64 * 1024;

function line(doc: Record<string, unknown>): string {
  const text = JSON.stringify(doc);
  if (Buffer.byteLength(text) <= MAX_LINE_BYTES) return text;
  const vigil = doc.vigil as { audit: Record<string, unknown> };
  return JSON.stringify({ ...doc, vigil: { audit: { ...vigil.audit, details: { truncated: true } } } });
}

/**
 * Appends records to the journal in one write and waits for the disk. `O_APPEND` makes each write land whole at
 * the end even when the server and a `vigil` command append at once.
 */
export function appendAuditRecords(dataDir: string, records: readonly AuditRecord[], clock: Clock = systemClock): Record<string, unknown>[] {
  if (records.length === 0) return [];
  const now = clock.now();
  const docs = records.map((r) => auditEvent(r, now));
  mkdirSync(dataDir, { recursive: true });
  const fd = openSync(join(dataDir, AUDIT_JOURNAL), 'a+', 0o600);
  try {
    // A line cut by a crash is ended first, so that it does not swallow this record.
    const size = fstatSync(fd).size;
    const last = Buffer.alloc(1);
    const cut = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    writeSync(fd, (cut ? '\n' : '') + docs.map(line).join('\n') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return docs;
}

/** What the server's components record through: durable at once, stored as events soon after. */
export interface AuditSink {
  record(...records: AuditRecord[]): void;
}

export class AuditTrail implements AuditSink {
  private listener: (() => void) | undefined;
  /** Records that could not be written (the disk failed): counted, and said once on stderr. */
  failures = 0;

  constructor(
    readonly dataDir: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Called after each append (the shipper stores the new lines at once instead of at its next poll). */
  onAppend(listener: () => void): void {
    this.listener = listener;
  }

  record(...records: AuditRecord[]): void {
    try {
      appendAuditRecords(this.dataDir, records, this.clock);
    } catch (err) {
      // An action is not refused because its record could not be written; the failure is counted and shown in health.
      if (this.failures++ === 0) console.error(`vigil: cannot write the audit journal: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.listener?.();
  }
}
