// Wires a remote agent together: the same host collectors and file tails as `vigil start`, but instead of the local
// store their events are parsed and normalized here, given a time-ordered unique `event.id` (UUIDv7, RFC 9562), and
// written to the on-disk buffer, from which the sender ships them to the server.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../config/config.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { EcsEvent } from '../core/event.js';
import { errorMessage } from '../core/errors.js';
import type { DocumentOptions, Ingest, IngestError, IngestResult, LineOptions } from '../core/ingest.js';
import { VERSION } from '../core/version.js';
import { parseLine } from '../parsers/index.js';
import type { ParseContext } from '../parsers/types.js';
import { DiskBuffer } from '../sinks/http/buffer.js';
import { HttpSender } from '../sinks/http/sender.js';
import { defaultTailTargets, startFileTail, type FileTail, type TailTarget } from '../sources/file/index.js';
import { startHostCollectors, type HostCollectors } from '../sources/host/index.js';
import { normalizeDocument, normalizeLine, truncateLine } from './normalize.js';

/** Parses and normalizes like the server's pipeline, then appends to the buffer; acknowledged once on disk. */
export class AgentIngest implements Ingest {
  readonly congested = false;
  readonly dropped = new Map<string, number>();
  /** Events written to the buffer. */
  written = 0;

  constructor(
    private readonly buffer: DiskBuffer,
    private readonly clock: Clock,
    private readonly maxLineChars: number,
    private readonly agentFields: Record<string, unknown>,
  ) {}

  async ingestLines(lines: readonly string[], options: LineOptions): Promise<IngestResult> {
    const now = this.clock.now();
    const ctx: ParseContext = options.year === undefined ? { now } : { now, year: options.year };
    const ingested = new Date(now).toISOString();
    const cut = options.truncated && options.truncated.length > 0 ? new Set(options.truncated) : undefined;
    const events: EcsEvent[] = lines.map((raw, i) => {
      const tooLong = raw.length > this.maxLineChars;
      const line = tooLong ? truncateLine(raw, this.maxLineChars) : raw;
      const { event } = normalizeLine(line, parseLine(line, options.format, ctx), options, ingested, tooLong || cut?.has(i) === true);
      event.event.id = uuidv7();
      return event;
    });
    await this.write(events);
    return { accepted: events.length, rejected: 0, errors: [], ids: events.map((e) => e.event.id) };
  }

  async ingestDocuments(documents: readonly unknown[], options: DocumentOptions): Promise<IngestResult> {
    const now = this.clock.now();
    const events: EcsEvent[] = [];
    const errors: IngestError[] = [];
    const ids: (string | undefined)[] = new Array(documents.length);
    documents.forEach((doc, index) => {
      // The id is given before normalization, which keeps a document's own.
      if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
        const d = doc as Record<string, unknown>;
        const event = d.event !== null && typeof d.event === 'object' && !Array.isArray(d.event) ? (d.event as Record<string, unknown>) : (d.event = {});
        if (typeof event.id !== 'string' || event.id === '') event.id = uuidv7();
      }
      const result = normalizeDocument(doc, options, now, undefined, this.maxLineChars);
      if (!result.ok) {
        errors.push({ index, reason: result.reason });
        return;
      }
      ids[index] = result.event.event.id;
      events.push(result.event);
    });
    await this.write(events);
    return { accepted: events.length, rejected: errors.length, errors, ids };
  }

  private async write(events: EcsEvent[]): Promise<void> {
    if (events.length === 0) return;
    const lines = events.map((event) => {
      (event as Record<string, unknown>).agent = this.agentFields;
      return JSON.stringify(event);
    });
    await this.buffer.append(lines);
    this.written += lines.length;
  }

  onDrain(listener: () => void): void {
    queueMicrotask(listener);
  }

  countDropped(input: string, reason: string, count = 1): void {
    const key = `${input}/${reason}`;
    this.dropped.set(key, (this.dropped.get(key) ?? 0) + count);
  }
}

export interface AgentOptions {
  server: string;
  token: string;
  /** State of the agent: buffer (unless bufferDir), file offsets, journald cursor, agent id. */
  dataDir: string;
  bufferDir?: string;
  maxBufferBytes: number;
  /** PEM file of a private CA for https servers. */
  caFile?: string;
  /** Files to follow besides the configured or default ones. */
  tails?: TailTarget[];
  /** `collect`, `files` and `ingest.max_line_bytes` as in the server's configuration. */
  config: Config;
  clock?: Clock;
  /** How often the agent ships its own status (`event.dataset: host.agent`); default 60 s, 0 never. */
  statusIntervalMs?: number;
  /** Sender tuning (tests). */
  sender?: { minBackoffMs?: number; maxBackoffMs?: number; batchEvents?: number };
  warn?: (message: string) => void;
}

export interface Agent {
  ingest: AgentIngest;
  buffer: DiskBuffer;
  sender: HttpSender;
  host: HostCollectors | undefined;
  files: FileTail | undefined;
  agentId: string;
  /** Stops collecting, writes what was collected to the buffer, stops sending. Undelivered events stay on disk. */
  close(): Promise<void>;
}

/** The agent's id: made once and kept in its data directory (ECS `agent.id`). */
function agentId(dataDir: string): string {
  const path = join(dataDir, 'agent-id');
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomUUID();
  writeFileSync(path, id + '\n', { mode: 0o600 });
  return id;
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const warn = options.warn ?? ((m: string) => console.warn(m));
  mkdirSync(options.dataDir, { recursive: true });
  const id = agentId(options.dataDir);
  const name = config.collect.host_name ?? hostname();
  const agentFields = { type: 'vigil-agent', version: VERSION, id, name };
  const buffer = await DiskBuffer.open({ dir: options.bufferDir ?? join(options.dataDir, 'buffer'), maxBytes: options.maxBufferBytes, warn });
  const ingest = new AgentIngest(buffer, clock, config.ingest.max_line_bytes, agentFields);
  const sender = new HttpSender({
    server: options.server,
    token: options.token,
    buffer,
    ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
    ...options.sender,
    warn,
  });
  sender.start();

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        warn(`vigil agent: error while stopping: ${errorMessage(err)}`);
      }
    }
  };
  closers.push(() => buffer.close());
  closers.push(() => sender.close());
  try {
    let host: HostCollectors | undefined;
    if (config.collect.enabled) {
      host = await startHostCollectors(config.collect, { ingest, dataDir: options.dataDir, clock, warn, startAt: config.files.start_at, maxLineBytes: config.ingest.max_line_bytes });
      closers.push(() => host!.close());
    }
    let files: FileTail | undefined;
    if (config.files.enabled || (options.tails?.length ?? 0) > 0) {
      const base = config.files.enabled ? (config.files.targets ?? defaultTailTargets('/', { authLog: !host?.authCollected })) : [];
      const targets = [...base, ...(options.tails ?? [])];
      if (targets.length > 0) {
        files = await startFileTail(
          { targets, statePath: join(options.dataDir, 'file-offsets.json'), pollMs: config.files.poll_ms, startAt: config.files.start_at, maxLineBytes: config.ingest.max_line_bytes, hostName: name },
          ingest,
        );
        closers.push(() => files!.close());
      }
    }

    const statusEvery = options.statusIntervalMs ?? 60_000;
    if (statusEvery > 0) {
      const report = () => {
        // A list, not an object keyed by `host.network` …: dotted keys would be expanded into nested fields.
        const collectors = (host?.collectors ?? []).map((c) => ({ name: c.name, ...c.status() }));
        const stats = buffer.stats();
        const doc = {
          '@timestamp': new Date(clock.now()).toISOString(),
          event: { kind: 'state', dataset: 'host.agent', module: 'host', category: ['host'], type: ['info'] },
          message: `agent status: ${collectors.filter((s) => s.ok).length}/${collectors.length} collectors healthy, ${stats.pending} events buffered`,
          host: { name, hostname: hostname() },
          vigil: { agent: { collectors, buffer: stats, sender: sender.status(), dropped: Object.fromEntries(ingest.dropped) } },
        };
        ingest.ingestDocuments([doc], { input: 'agent' }).catch((err) => warn(`vigil agent: cannot buffer its status: ${errorMessage(err)}`));
      };
      const timer = setInterval(report, statusEvery);
      timer.unref();
      report();
      closers.push(async () => clearInterval(timer));
    }

    return { ingest, buffer, sender, host, files, agentId: id, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
