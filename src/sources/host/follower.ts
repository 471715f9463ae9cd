// Runs a command that prints one record per line for as long as it lives (`journalctl -f -o json`, macOS
// `log stream --style ndjson`), hands its lines over in acknowledged batches, and restarts it with back-off
// when it exits. Reading pauses while a batch is being delivered, so a slow pipeline slows the child, not memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { errorMessage } from '../../core/errors.js';

export interface FollowerOptions {
  command: string;
  /** Arguments for each (re)start; called every time so that it can resume from the last acknowledged record. */
  args: () => string[];
  /** Delivers one batch; resolves once it is stored. A rejection is reported and the batch retried. */
  deliver: (lines: string[]) => Promise<void>;
  /** Told when the child is running, or why it is not. */
  onState: (state: { ok: true } | { ok: false; reason: string }) => void;
  /** Lines per batch (default 500) and the longest wait for a batch to fill (default 250 ms). */
  batchLines?: number;
  batchMs?: number;
  /** First and longest wait before a restart (default 1 s and 30 s). */
  restartMs?: number;
  maxRestartMs?: number;
  /** Longest line kept; longer ones are cut (default 1 MiB). */
  maxLineChars?: number;
}

export class CommandFollower {
  private child: ChildProcess | undefined;
  private closing = false;
  private batch: string[] = [];
  private batchTimer: NodeJS.Timeout | undefined;
  private delivering: Promise<void> = Promise.resolve();
  private pendingBatches = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stderrTail = '';
  private exited: Promise<void> = Promise.resolve();
  private readonly batchLines: number;
  private readonly batchMs: number;
  private readonly restartMs: number;
  private readonly maxRestartMs: number;
  private readonly maxLineChars: number;
  /** Lines delivered since start, for health. */
  delivered = 0;

  constructor(private readonly options: FollowerOptions) {
    this.batchLines = options.batchLines ?? 500;
    this.batchMs = options.batchMs ?? 250;
    this.restartMs = options.restartMs ?? 1000;
    this.maxRestartMs = options.maxRestartMs ?? 30_000;
    this.maxLineChars = options.maxLineChars ?? 1024 * 1024;
  }

  start(): void {
    if (this.closing) return;
    let child: ChildProcess;
    try {
      child = spawn(this.options.command, this.options.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.failed(`cannot run ${this.options.command}: ${errorMessage(err)}`);
      return;
    }
    this.child = child;
    this.stderrTail = '';
    let spawned = false;
    child.once('spawn', () => {
      spawned = true;
      this.options.onState({ ok: true });
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line.length === 0) return;
      this.batch.push(line.length > this.maxLineChars ? line.slice(0, this.maxLineChars) : line);
      if (this.batch.length >= this.batchLines) this.flush();
      else this.batchTimer ??= setTimeout(() => this.flush(), this.batchMs);
    });
    this.exited = new Promise((resolve) => {
      let errored: Error | undefined;
      child.once('error', (err) => {
        errored = err;
        // ENOENT: the command is absent; no exit event follows a failed spawn.
        if (!spawned) {
          resolve();
          this.failed((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${this.options.command} is not installed (or not in PATH)` : `cannot run ${this.options.command}: ${err.message}`);
        }
      });
      child.once('close', (code, signal) => {
        resolve();
        if (this.child === child) this.child = undefined;
        if (!spawned && errored) return;
        this.flush();
        if (this.closing) return;
        const said = this.stderrTail.trim().split('\n').slice(-3).join(' / ');
        this.failed(`${this.options.command} exited (${signal ?? `code ${code}`})${said ? `: ${said}` : ''}`);
      });
    });
  }

  private failed(reason: string): void {
    this.options.onState({ ok: false, reason });
    if (this.closing) return;
    const wait = Math.min(this.maxRestartMs, this.restartMs * 2 ** Math.min(this.failures, 10));
    this.failures++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      // Restart only once everything read so far is stored, so that `args()` resumes after the right record.
      void this.delivering.then(() => this.start());
    }, wait);
    this.restartTimer.unref();
  }

  private flush(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.batch.length === 0) return;
    const lines = this.batch;
    this.batch = [];
    this.pendingBatches++;
    // Back-pressure: stop reading the child's output while batches wait (its pipe fills and it blocks).
    if (this.pendingBatches > 1) this.child?.stdout?.pause();
    this.delivering = this.delivering.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.options.deliver(lines);
          this.delivered += lines.length;
          this.failures = 0;
          if (attempt > 0 && this.child) this.options.onState({ ok: true });
          break;
        } catch (err) {
          if (this.closing && attempt > 0) break;
          this.options.onState({ ok: false, reason: `cannot store what ${this.options.command} read: ${errorMessage(err)}` });
          await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6))));
        }
      }
      this.pendingBatches--;
      if (this.pendingBatches <= 1) this.child?.stdout?.resume();
    });
  }

  /** Stops the child, delivers what it printed, and resolves when both are done. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await this.exited;
    this.flush();
    await this.delivering;
  }
}
