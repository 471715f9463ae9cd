// The authentication and security log collector: journald where it runs (auth and authpriv facilities, resuming from
// a cursor persisted after each stored batch), else the auth log file (/var/log/auth.log or /var/log/secure) through
// the file tailer; on macOS the unified log (`log stream`). Events keep the auth parsers' datasets (`sshd`, `sudo`,
// `su`, `pam`, `accounts`), which detection rules are keyed on; `input.type` or `log.file.path` tells the source.
import { accessSync, constants, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errorMessage, isVigilError } from '../../core/errors.js';
import type { Ingest } from '../../core/ingest.js';
import { startFileTail, type FileTail } from '../file/index.js';
import { Problems, type Collector, type CollectorContext, type CollectorStatus } from './collector.js';
import { CommandFollower } from './follower.js';
import { AUTH_FACILITY_MATCHES, journalctlArgs, journaldRunning, loadCursor, mapJournalLine, saveCursor } from './journald.js';
import { logStreamArgs, mapLogStreamLine } from './macos/log-stream.js';

export type AuthSource = 'auto' | 'journald' | 'file' | 'log_stream';

export interface AuthOptions {
  /** `auto`: journald if it runs, else the first auth log file that exists (macOS: the unified log). */
  source?: AuthSource;
  /** Auth log files to try, in order (default /var/log/auth.log, /var/log/secure). */
  paths?: string[];
  /** The journalctl command (default `journalctl`). */
  journalctl?: string;
  /** Read the journal files of this directory instead of the system journal (`journalctl --directory`). */
  journalDirectory?: string;
  /** journald's runtime directory, whose socket says journald runs (default /run/systemd/journal). */
  journaldRunDir?: string;
  /** The macOS `log` command (default `log`). */
  logCommand?: string;
  /** Where to start the first time (no cursor or offset saved yet). */
  startAt?: 'beginning' | 'end';
  maxLineBytes?: number;
  /** How often a missing source is looked for again (default 60 s). */
  recheckMs?: number;
  platform?: NodeJS.Platform;
  /** Passed to the file tail (tests use a short poll). */
  pollMs?: number;
}

export const DEFAULT_AUTH_LOGS = ['/var/log/auth.log', '/var/log/secure'];
const CURSOR_FILE = 'journald-cursor';
const OFFSETS_FILE = 'auth-log-offsets.json';

type Active = { kind: 'journald' | 'log_stream'; follower: CommandFollower } | { kind: 'file'; path: string; tail: FileTail } | { kind: 'none' };

function isReadableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export class AuthCollector implements Collector {
  readonly name = 'host.auth';
  private readonly ingest: Ingest;
  private readonly hostName: string;
  private readonly dataDir: string;
  private readonly problems: Problems;
  private readonly options: Required<Pick<AuthOptions, 'source' | 'paths' | 'journalctl' | 'logCommand' | 'startAt' | 'recheckMs' | 'platform'>> & AuthOptions;
  private active: Active = { kind: 'none' };
  private cursor: string | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private events = 0;
  private skipped = 0;

  constructor(context: CollectorContext, options: AuthOptions = {}) {
    this.ingest = context.ingest;
    this.hostName = context.hostName ?? hostname();
    this.dataDir = context.dataDir;
    this.problems = new Problems(this.name, context.warn ?? ((m) => console.warn(m)));
    this.options = {
      ...options,
      source: options.source ?? 'auto',
      paths: options.paths ?? DEFAULT_AUTH_LOGS,
      journalctl: options.journalctl ?? 'journalctl',
      logCommand: options.logCommand ?? 'log',
      startAt: options.startAt ?? 'end',
      recheckMs: options.recheckMs ?? 60_000,
      platform: options.platform ?? process.platform,
    };
  }

  /** Which source `auto` picks now, or why there is none. */
  private choose(): { kind: 'journald' } | { kind: 'log_stream' } | { kind: 'file'; path: string } | { kind: 'none'; reason: string } {
    const o = this.options;
    if (o.source === 'journald') return { kind: 'journald' };
    if (o.source === 'log_stream' || (o.source === 'auto' && o.platform === 'darwin')) return { kind: 'log_stream' };
    if (o.source === 'auto' && (o.journalDirectory !== undefined || journaldRunning(o.journaldRunDir))) return { kind: 'journald' };
    const path = o.paths.find(isReadableFile);
    if (path) return { kind: 'file', path };
    const missing = o.paths.join(', ');
    return {
      kind: 'none',
      reason:
        o.source === 'file'
          ? `no readable auth log file (${missing})`
          : `no auth source: journald is not running and no readable auth log file exists (${missing}); install rsyslog, or set collect.auth.enabled: false`,
    };
  }

  async start(): Promise<void> {
    await this.activate();
  }

  private async activate(): Promise<void> {
    if (this.closing) return;
    const choice = this.choose();
    if (choice.kind === 'none') {
      this.problems.fail(choice.reason);
      this.scheduleRecheck();
      return;
    }
    if (choice.kind === 'journald') {
      this.cursor = await loadCursor(join(this.dataDir, CURSOR_FILE));
      const follower = new CommandFollower({
        command: this.options.journalctl,
        args: () =>
          journalctlArgs({
            cursor: this.cursor,
            startAt: this.options.startAt,
            matches: AUTH_FACILITY_MATCHES,
            ...(this.options.journalDirectory !== undefined ? { directory: this.options.journalDirectory } : {}),
          }),
        deliver: (lines) => this.deliverJournal(lines),
        onState: (state) => (state.ok ? this.problems.clear() : this.problems.fail(state.reason)),
      });
      this.active = { kind: 'journald', follower };
      follower.start();
      return;
    }
    if (choice.kind === 'log_stream') {
      const follower = new CommandFollower({
        command: this.options.logCommand,
        args: logStreamArgs,
        deliver: (lines) => this.deliverLogStream(lines),
        onState: (state) => (state.ok ? this.problems.clear() : this.problems.fail(state.reason)),
      });
      this.active = { kind: 'log_stream', follower };
      follower.start();
      return;
    }
    const tail = await startFileTail(
      {
        targets: [{ path: choice.path, format: 'sshd' }],
        statePath: join(this.dataDir, OFFSETS_FILE),
        startAt: this.options.startAt,
        hostName: this.hostName,
        ...(this.options.maxLineBytes !== undefined ? { maxLineBytes: this.options.maxLineBytes } : {}),
        ...(this.options.pollMs !== undefined ? { pollMs: this.options.pollMs } : {}),
        onError: (e) => this.problems.fail(`${e.path}: ${e.message}`),
      },
      this.ingest,
    );
    this.active = { kind: 'file', path: choice.path, tail };
    this.problems.clear();
    // A tail problem (the file became unreadable) is said once; this notices when it clears.
    this.scheduleRecheck();
  }

  private scheduleRecheck(): void {
    if (this.closing) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      if (this.active.kind === 'none') void this.activate();
      else if (this.active.kind === 'file') {
        if (isReadableFile(this.active.path)) this.problems.clear();
        this.scheduleRecheck();
      }
    }, this.options.recheckMs);
    this.recheckTimer.unref();
  }

  /** Stores one batch of journal entries, then saves the cursor of the last one (the batch is acknowledged). */
  private async deliverJournal(lines: string[]): Promise<void> {
    const docs: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    for (const line of lines) {
      const record = mapJournalLine(line);
      if (record.cursor) cursor = record.cursor;
      if (record.document) docs.push(record.document);
      else this.skipped++;
    }
    await this.store(docs);
    if (cursor) {
      this.cursor = cursor;
      await saveCursor(join(this.dataDir, CURSOR_FILE), cursor);
    }
  }

  private async deliverLogStream(lines: string[]): Promise<void> {
    const docs: Record<string, unknown>[] = [];
    for (const line of lines) {
      const doc = mapLogStreamLine(line);
      if (doc) docs.push(doc);
    }
    await this.store(docs);
  }

  /** Hands documents to the pipeline, waiting while it says `busy` (the follower stops reading meanwhile). */
  private async store(docs: Record<string, unknown>[]): Promise<void> {
    if (docs.length === 0) return;
    for (;;) {
      try {
        await this.ingest.ingestDocuments(docs, { input: this.name, hostName: this.hostName });
        this.events += docs.length;
        return;
      } catch (err) {
        if (isVigilError(err) && err.id === 'busy' && !this.closing) {
          await new Promise((resolve) => setTimeout(resolve, Math.max(100, (err.retryAfter ?? 1) * 1000)));
          continue;
        }
        throw new Error(errorMessage(err));
      }
    }
  }

  status(): CollectorStatus {
    const error = this.problems.error;
    const a = this.active;
    return {
      ok: error === undefined,
      ...(error !== undefined ? { error } : {}),
      source: a.kind,
      ...(a.kind === 'file' ? { path: a.path } : {}),
      ...(a.kind === 'journald' || a.kind === 'log_stream' ? { events: this.events, lines: a.follower.delivered, ...(this.skipped > 0 ? { skipped: this.skipped } : {}) } : {}),
      ...(a.kind === 'journald' ? { cursor_saved: this.cursor !== undefined } : {}),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    const a = this.active;
    if (a.kind === 'journald' || a.kind === 'log_stream') await a.follower.close();
    else if (a.kind === 'file') await a.tail.close();
  }
}
