// Follows log files like `tail -F`, without losing or repeating lines: it survives rename and copytruncate
// rotation, picks up files that appear, and persists offsets only after the pipeline acknowledged the lines.
import { createHash } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { errorMessage, isVigilError } from '../../core/errors.js';
import type { Ingest } from '../../core/ingest.js';
import { LineSplitter, type SplitLine } from './line-splitter.js';
import type { CompiledTarget, FileTail, FileTailError, ResolvedOptions } from './options.js';
import { loadTailState, saveTailState, type SavedFile } from './state.js';

/** Bytes read at a time, so a huge file never sits in memory. */
const READ_CHUNK = 1024 * 1024;
/** At most this much of one file per pass, so one huge file does not hold back the others. */
const PASS_BYTES_PER_FILE = 16 * READ_CHUNK;
/** How much of the start of a file identifies it besides its inode (inode numbers are reused). */
const FINGERPRINT_BYTES = 1024;
/** How many bytes before the delivered position are kept to recognise the file again: see sameTail. */
const TAIL_BYTES = 64;
/** Files let go of are remembered (in memory) in case the same file shows up again under a target. */
const MAX_RETIRED = 256;
/** Listings of a glob's directory per pass when renames race them. */
const LIST_ATTEMPTS = 3;
/** Change notifications come in bursts (one per write); one pass after a short pause reads them all. */
const WATCH_SETTLE_MS = 20;
/** Even when the pipeline says it drained at once, a `busy` answer is not retried sooner than this. */
const MIN_BUSY_WAIT_MS = 10;
const MAX_RETRY_MS = 30_000;
const LF = 0x0a;

/** A file being followed, keyed by its identity; its path can change (rename) while it is followed. */
interface Tracked {
  key: string;
  dev: string;
  ino: string;
  /** Creation time in ns (statx(2) btime), '0' where the filesystem does not record it. */
  birth: string;
  path: string;
  format: string;
  handle: FileHandle;
  splitter: LineSplitter;
  /** Offset of the next byte to read. */
  readPos: number;
  /** Acknowledged position: what is persisted. */
  offset: number;
  skipping: boolean;
  fingerprint: string;
  fingerprintBytes: number;
  /** Copy of the (up to) TAIL_BYTES bytes before `tailEnd`, a position already delivered. */
  tail: Buffer;
  tailEnd: number;
  /** Size and mtime at the last check of the file's first bytes. */
  seenSize: number;
  seenMtimeMs: number;
  /** When no target path led to this file any more (renamed away or deleted). */
  goneSince: number | undefined;
  lastGrowth: number;
}

interface Found {
  key: string;
  path: string;
  format: string;
}

export class FileTailer implements FileTail {
  private readonly files = new Map<string, Tracked>();
  /** Saved positions not yet matched to an open file, by `dev:ino`. */
  private readonly saved = new Map<string, SavedFile>();
  /** Paths the saved state knew: a different file there now was created while we were stopped. */
  private readonly savedPaths = new Set<string>();
  /**
   * Files let go of (renamed away or deleted, then quiet), by `dev:ino`. A listing that races a rename can
   * miss a file for one pass; when it shows up again it resumes where it was instead of being read twice.
   */
  private readonly retired = new Map<string, SavedFile>();
  /** Identities present at start: only these get `startAt`; files that appear later are read from 0. */
  private readonly initialKeys = new Set<string>();
  /** Problems reported and not yet cleared (key -> code), so each is reported once. */
  private readonly problems = new Map<string, string>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly readBuffer = Buffer.allocUnsafe(READ_CHUNK);
  private readonly stateDir: string;
  private readonly stateName: string;
  private dirty = false;
  private closing = false;
  /** During close: reading what is left of files that a restart would not find again. */
  private lastChance = false;
  private loop: Promise<void> | undefined;
  private closed: Promise<void> | undefined;
  /** idle() callers waiting for the next pass to start, and those waiting for the current pass to end. */
  private idleWaiters: (() => void)[] = [];
  private passWaiters: (() => void)[] = [];
  private wakeRequested = false;
  private wakeUp: (() => void) | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private drain: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private signalStop: () => void = () => undefined;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly ingest: Ingest,
  ) {
    this.stopped = new Promise((resolve) => {
      this.signalStop = resolve;
    });
    this.stateDir = dirname(opts.statePath);
    this.stateName = basename(opts.statePath);
  }

  /** Loads the saved offsets and fixes where each existing file starts before returning, then follows in the background. */
  async start(): Promise<void> {
    const state = await loadTailState(this.opts.statePath);
    if (state.problem) this.report({ path: this.opts.statePath, code: 'state_unreadable', message: state.problem });
    for (const file of state.files) {
      this.saved.set(`${file.dev}:${file.ino}`, file);
      this.savedPaths.add(file.path);
    }
    // Positions are fixed now, so lines appended after start() returns are never taken for old ones (startAt 'end').
    const found = await this.scan();
    for (const key of found.keys()) this.initialKeys.add(key);
    await this.reconcile(found);
    this.pruneSaved();
    await this.persist();
    this.loop = this.run();
  }

  idle(): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake();
    });
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.signalStop();
    this.wake();
    await this.loop;
    clearTimeout(this.pollTimer);
    clearTimeout(this.settleTimer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    if (this.loop) await this.drainGone();
    await this.persist();
    for (const tf of this.files.values()) await tf.handle.close().catch(() => undefined);
    this.files.clear();
    for (const resolve of [...this.passWaiters.splice(0), ...this.idleWaiters.splice(0)]) resolve();
  }

  /**
   * A file renamed out of the targets or deleted will not be found after a restart: at close, read what is
   * left of it and deliver its partial line now. One attempt per batch, no waiting: close must not hang.
   */
  private async drainGone(): Promise<void> {
    this.lastChance = true;
    try {
      const found = await this.scan();
      for (const tf of [...this.files.values()]) {
        if (found.has(tf.key)) continue;
        tf.goneSince ??= performance.now();
        await this.readTracked(tf);
      }
    } catch (err) {
      this.report({ path: this.opts.statePath, code: 'internal', message: `file tail close failed: ${errorMessage(err)}`, cause: err }, 'pass');
    } finally {
      this.lastChance = false;
    }
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      // Waiters registered before this pass starts are answered when it ends: it sees everything written before idle().
      this.passWaiters.push(...this.idleWaiters.splice(0));
      this.wakeRequested = false;
      let caughtUp = true;
      try {
        caughtUp = await this.pass();
      } catch (err) {
        this.report({ path: this.opts.statePath, code: 'internal', message: `file tail pass failed: ${errorMessage(err)}`, cause: err }, 'pass');
      }
      if (caughtUp) for (const resolve of this.passWaiters.splice(0)) resolve();
      if (this.closing) break;
      // A file with more to read than one pass allows: go on at once (real work, not a busy loop).
      if (caughtUp) await this.sleep();
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** One look at every target: find files, notice rotation, read each to its end. True when all were read to their end. */
  private async pass(): Promise<boolean> {
    const found = await this.scan();
    await this.reconcile(found);
    this.pruneSaved();
    // A rotated file first: its last lines are older than the first lines of the file that replaced it.
    const order = [...this.files.values()].sort((a, b) => Number(b.goneSince !== undefined) - Number(a.goneSince !== undefined));
    let caughtUp = true;
    for (const tf of order) {
      if (this.closing) break;
      if (!(await this.readTracked(tf))) caughtUp = false;
    }
    if (this.dirty && !this.closing) await this.persist();
    return caughtUp;
  }

  private async sleep(): Promise<void> {
    if (this.wakeRequested) return;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      this.pollTimer = setTimeout(resolve, this.opts.pollMs);
    });
    clearTimeout(this.pollTimer);
    this.wakeUp = undefined;
  }

  private wake(): void {
    this.wakeRequested = true;
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** Lists the files the targets name now, by identity (the first target naming a file wins). */
  private async scan(): Promise<Map<string, Found>> {
    const found = new Map<string, Found>();
    for (const target of this.opts.targets) {
      if (this.opts.watch) this.ensureWatch(target.dir);
      if (!target.matches) {
        await this.look(target.path, target, found);
        continue;
      }
      // A name listed but gone when stat'ed is a rename racing the listing (access.log -> access.log.1):
      // list again, so the file is seen under its new name in this same pass.
      for (let attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
        const names = await this.list(target.dir);
        const matches = target.matches;
        const own = target.dir === this.stateDir;
        let raced = false;
        for (const name of names.filter((n) => matches(n) && !(own && n.startsWith(this.stateName))).sort()) {
          if (!(await this.look(join(target.dir, name), target, found))) raced = true;
        }
        if (!raced) break;
      }
    }
    return found;
  }

  private async list(dir: string): Promise<string[]> {
    try {
      const names = await readdir(dir);
      this.clear(dir);
      return names;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') this.clear(dir);
      else this.report({ path: dir, code: errnoCode(err), message: `cannot list the directory: ${errorMessage(err)}`, cause: err });
      return [];
    }
  }

  /** Adds the file at `path` to `found` if it is a regular file. False when it does not exist. */
  private async look(path: string, target: CompiledTarget, found: Map<string, Found>): Promise<boolean> {
    let st;
    try {
      st = await stat(path, { bigint: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        this.clear(path);
        return false;
      }
      this.report({ path, code: errnoCode(err), message: `cannot stat: ${errorMessage(err)}`, cause: err });
      return true;
    }
    if (!st.isFile()) {
      // A glob may well match a directory or a socket; a path named on purpose that is not a file is worth a warning.
      if (!target.matches) {
        const code = st.isDirectory() ? 'is_directory' : 'not_a_file';
        this.report({ path, code, message: code === 'is_directory' ? 'is a directory, not a log file' : 'is not a regular file' });
      }
      return true;
    }
    const key = `${st.dev}:${st.ino}`;
    if (!found.has(key)) found.set(key, { key, path, format: target.format });
    return true;
  }

  /** Opens files seen for the first time, follows renames, and marks files no target leads to any more. */
  private async reconcile(found: Map<string, Found>): Promise<void> {
    for (const f of found.values()) {
      if (this.closing) return;
      const tf = this.files.get(f.key);
      if (!tf) {
        await this.track(f);
        continue;
      }
      if (tf.path !== f.path || tf.format !== f.format) {
        tf.path = f.path; // renamed within the targets (access.log -> access.log.1): same file, same offset
        tf.format = f.format;
        this.dirty = true;
      }
      tf.goneSince = undefined;
    }
    const now = performance.now();
    for (const tf of this.files.values()) if (!found.has(tf.key)) tf.goneSince ??= now;
  }

  private async track(f: Found): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(f.path, 'r');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.report({ path: f.path, code: errnoCode(err), message: `cannot open: ${errorMessage(err)}`, cause: err });
      return;
    }
    try {
      // The descriptor is the truth: the path may have been replaced between stat and open.
      const st = await handle.stat({ bigint: true });
      const key = `${st.dev}:${st.ino}`;
      if (this.files.has(key) || !st.isFile()) {
        await handle.close();
        return;
      }
      const size = Number(st.size);
      const head = await readHead(handle, size);
      let start = 0;
      let skipping = false;
      const saved = this.saved.get(key) ?? this.retired.get(key);
      const birth = String(st.birthtimeNs);
      if (saved && (await isSameFile(handle, size, head, birth, saved))) {
        start = saved.offset; // the file we were reading before the restart, or before it went out of sight
        skipping = saved.skipping;
      } else if (this.opts.startAt === 'end' && this.initialKeys.has(key) && !this.savedPaths.has(f.path)) {
        start = size;
        // Starting inside a line would deliver its tail as a line of its own: skip to the next LF instead.
        skipping = size > 0 && (await byteAt(handle, size - 1)) !== LF;
      }
      // Otherwise from 0: it appeared after we started, or replaced a file we followed while we were stopped.
      this.saved.delete(key);
      this.retired.delete(key);
      const now = performance.now();
      this.files.set(key, {
        key,
        dev: String(st.dev),
        ino: String(st.ino),
        birth,
        path: f.path,
        format: f.format,
        handle,
        splitter: new LineSplitter(this.opts.maxLineBytes, start, skipping),
        readPos: start,
        offset: start,
        skipping,
        fingerprint: sha256(head),
        fingerprintBytes: head.length,
        tail: await bytesBefore(handle, start),
        tailEnd: start,
        seenSize: size,
        seenMtimeMs: Number(st.mtimeMs),
        goneSince: undefined,
        lastGrowth: now,
      });
      this.dirty = true;
      this.clear(f.path);
    } catch (err) {
      await handle.close().catch(() => undefined);
      this.report({ path: f.path, code: errnoCode(err), message: `cannot read: ${errorMessage(err)}`, cause: err });
    }
  }

  /** Saved positions are kept only while the file they belong to cannot be opened (it may come back). */
  private pruneSaved(): void {
    for (const [key, saved] of this.saved) {
      if (!this.problems.has(saved.path) && !this.problems.has(dirname(saved.path))) {
        this.saved.delete(key);
        this.dirty = true;
      }
    }
  }

  /** Reads one file from its position to its current end, delivering lines in batches. False if a pass budget cut it short. */
  private async readTracked(tf: Tracked): Promise<boolean> {
    let size: number;
    try {
      const st = await tf.handle.stat();
      size = st.size;
      if (size !== tf.seenSize || st.mtimeMs !== tf.seenMtimeMs) {
        const sameHead = await this.checkHead(tf, size);
        // copytruncate (logrotate(8)) keeps the inode and cuts the file to 0. If it grew back past our offset
        // before this look, the changed bytes tell: its first bytes, or (when log lines start alike) the
        // bytes just before our offset. Either way everything in it is new.
        if (size < tf.readPos || !sameHead || !(await this.sameTail(tf))) this.startOver(tf);
        tf.seenSize = size;
        tf.seenMtimeMs = st.mtimeMs;
      }
    } catch (err) {
      this.report({ path: tf.path, code: errnoCode(err), message: `cannot read: ${errorMessage(err)}`, cause: err });
      return true;
    }

    const queue: SplitLine[] = [];
    let budget = PASS_BYTES_PER_FILE;
    try {
      while (tf.readPos < size && budget > 0 && (!this.closing || this.lastChance)) {
        const want = Math.min(this.readBuffer.length, size - tf.readPos, budget);
        const { bytesRead } = await tf.handle.read(this.readBuffer, 0, want, tf.readPos);
        if (bytesRead === 0) break; // it shrank under us: the next look sees the truncation
        tf.readPos += bytesRead;
        budget -= bytesRead;
        tf.lastGrowth = performance.now();
        for (const line of tf.splitter.push(this.readBuffer.subarray(0, bytesRead))) queue.push(line);
        while (queue.length >= this.opts.batchSize) {
          const batch = queue.splice(0, this.opts.batchSize);
          if (!(await this.deliver(tf, batch, queue.length === 0))) return true;
        }
      }
      this.clear(tf.path);
    } catch (err) {
      this.report({ path: tf.path, code: errnoCode(err), message: `cannot read: ${errorMessage(err)}`, cause: err });
    }
    if (queue.length > 0 && !(await this.deliver(tf, queue, true))) return true;
    if (tf.splitter.committedOffset !== tf.offset || tf.splitter.skipping !== tf.skipping) {
      // Only skipped bytes of a cut line since the last batch: nothing to deliver, but the position moved.
      tf.offset = tf.splitter.committedOffset;
      tf.skipping = tf.splitter.skipping;
      this.dirty = true;
    }
    if (tf.tailEnd !== tf.offset) {
      try {
        tf.tail = await bytesBefore(tf.handle, tf.offset);
        tf.tailEnd = tf.offset;
      } catch {
        // Kept as it was: it still describes delivered bytes.
      }
    }
    const atEnd = tf.readPos >= size;
    if (atEnd && tf.goneSince !== undefined && (this.lastChance || performance.now() - Math.max(tf.goneSince, tf.lastGrowth) >= this.opts.rotatedGraceMs)) {
      await this.retire(tf);
    }
    return atEnd || budget > 0;
  }

  /**
   * Compares the file's first bytes with its fingerprint, growing the fingerprint while the file is shorter
   * than FINGERPRINT_BYTES. False when the start of the file changed (it was truncated and rewritten).
   */
  private async checkHead(tf: Tracked, size: number): Promise<boolean> {
    const head = await readHead(tf.handle, size);
    const same = sameStart(head, tf.fingerprintBytes, tf.fingerprint);
    if (!same || head.length > tf.fingerprintBytes) {
      tf.fingerprint = sha256(head);
      tf.fingerprintBytes = head.length;
      this.dirty = true;
    }
    return same;
  }

  private async sameTail(tf: Tracked): Promise<boolean> {
    if (tf.tail.length === 0) return true;
    const now = await bytesBefore(tf.handle, tf.tailEnd, tf.tail.length);
    return now.equals(tf.tail);
  }

  private startOver(tf: Tracked): void {
    // The held partial line belonged to the old contents (copytruncate copied it away already).
    tf.splitter.reset(0);
    tf.readPos = 0;
    tf.offset = 0;
    tf.skipping = false;
    tf.tail = Buffer.alloc(0);
    tf.tailEnd = 0;
    this.dirty = true;
  }

  /** A file renamed away or deleted, read to its end and quiet for the grace period: deliver its held partial line and let go. */
  private async retire(tf: Tracked): Promise<void> {
    const last = tf.splitter.flush();
    if (last && !(await this.deliver(tf, [last], true))) return;
    tf.offset = tf.splitter.committedOffset;
    tf.skipping = false;
    await tf.handle.close().catch(() => undefined);
    this.files.delete(tf.key);
    this.retired.set(tf.key, savedFile(tf));
    if (this.retired.size > MAX_RETIRED) this.retired.delete(this.retired.keys().next().value!);
    this.dirty = true;
  }

  /**
   * Hands one batch to the pipeline and records the new position. `all` means the batch empties the queue,
   * so the splitter's own position (past skipped bytes, before a held partial line) is the one to keep.
   */
  private async deliver(tf: Tracked, batch: SplitLine[], all: boolean): Promise<boolean> {
    const truncated: number[] = [];
    batch.forEach((line, i) => {
      if (line.truncated) truncated.push(i);
    });
    if (!(await this.send(tf, batch.map((line) => line.text), truncated))) return false;
    if (truncated.length > 0) this.ingest.countDropped('file', 'truncated', truncated.length);
    const last = batch[batch.length - 1]!;
    tf.offset = all ? tf.splitter.committedOffset : last.end;
    tf.skipping = all ? tf.splitter.skipping : last.skipping;
    // Persisted only now that the pipeline has acknowledged the batch. A crash between the acknowledgement and
    // this write makes a restart deliver this one batch again (at-least-once for the last batch); none is skipped.
    await this.persist();
    return true;
  }

  /** Retries the same batch until the pipeline takes it: `busy` waits for a drain, other failures back off. False if closing. */
  private async send(tf: Tracked, lines: string[], truncated: number[]): Promise<boolean> {
    const options = { format: tf.format, input: 'file', filePath: tf.path, hostName: this.opts.hostName, ...(truncated.length > 0 ? { truncated } : {}) };
    if (this.lastChance) {
      try {
        await this.ingest.ingestLines(lines, options);
        return true;
      } catch {
        return false;
      }
    }
    let failures = 0;
    for (;;) {
      if (this.closing) return false;
      if (this.ingest.congested) {
        await this.waitForDrain(undefined);
        if (this.closing) return false;
      }
      try {
        await this.ingest.ingestLines(lines, options);
        if (failures > 0) this.clear(`ingest:${tf.path}`);
        return true;
      } catch (err) {
        if (isVigilError(err) && err.id === 'busy') {
          await this.waitForDrain(err.retryAfter);
          continue;
        }
        failures++;
        this.report(
          { path: tf.path, code: 'ingest_failed', message: `the pipeline did not take the lines; retrying: ${errorMessage(err)}`, cause: err },
          `ingest:${tf.path}`,
        );
        await this.pause(Math.min(MAX_RETRY_MS, Math.max(this.opts.pollMs, 100) * 2 ** Math.min(failures - 1, 8)));
      }
    }
  }

  private async waitForDrain(retryAfterSeconds: number | undefined): Promise<void> {
    await Promise.all([this.pause(MIN_BUSY_WAIT_MS), this.pause(this.retryMs(retryAfterSeconds), this.drained())]);
  }

  /** One drain listener shared by every wait, so a long congestion does not pile listeners up. */
  private drained(): Promise<void> {
    if (this.drain) return this.drain;
    let fired = false;
    let resolveDrained: () => void = () => undefined;
    const drained = new Promise<void>((resolve) => {
      resolveDrained = resolve;
    });
    this.ingest.onDrain(() => {
      fired = true;
      if (this.drain === drained) this.drain = undefined;
      resolveDrained();
    });
    if (!fired) this.drain = drained;
    return drained;
  }

  private retryMs(retryAfterSeconds: number | undefined): number {
    if (retryAfterSeconds === undefined || !(retryAfterSeconds > 0)) return 1000;
    return Math.min(retryAfterSeconds * 1000, MAX_RETRY_MS);
  }

  /** Waits `ms`, or less if `early` settles or the tail closes. */
  private pause(ms: number, early?: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    const racers = early ? [timeout, this.stopped, early] : [timeout, this.stopped];
    return Promise.race(racers).finally(() => clearTimeout(timer));
  }

  private async persist(): Promise<void> {
    const files: SavedFile[] = [];
    for (const tf of this.files.values()) files.push(savedFile(tf));
    for (const saved of this.saved.values()) files.push(saved);
    // At close, files let go of are kept too: if a restart finds one under a target after all, it resumes.
    if (this.closing) for (const retired of this.retired.values()) files.push(retired);
    this.dirty = false;
    try {
      await saveTailState(this.opts.statePath, files);
      this.clear('state');
    } catch (err) {
      this.dirty = true;
      this.report({ path: this.opts.statePath, code: 'state_write_failed', message: `cannot save offsets: ${errorMessage(err)}`, cause: err }, 'state');
    }
  }

  /** fs.watch (inotify on Linux) on each target's directory wakes the loop early; polling stays the fallback. */
  private ensureWatch(dir: string): void {
    if (this.watchers.has(dir) || this.closing) return;
    try {
      const watcher = fsWatch(dir, { persistent: false }, (_event, name) => this.onWatchEvent(dir, name));
      watcher.on('error', () => {
        watcher.close();
        if (this.watchers.get(dir) === watcher) this.watchers.delete(dir);
      });
      this.watchers.set(dir, watcher);
    } catch {
      // The directory does not exist yet, or the watch limit is reached: polling covers it; retried next pass.
    }
  }

  private onWatchEvent(dir: string, name: string | null): void {
    if (name !== null && !this.concerns(dir, name)) return;
    if (this.settleTimer || this.closing) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.wake();
    }, WATCH_SETTLE_MS);
  }

  /** Whether a change to `dir/name` can matter (a busy /var/log has many files we do not follow). */
  private concerns(dir: string, name: string): boolean {
    if (dir === this.stateDir && name.startsWith(this.stateName)) return false;
    for (const target of this.opts.targets) {
      if (target.dir !== dir) continue;
      if (target.matches ? target.matches(name) : basename(target.path) === name) return true;
    }
    for (const tf of this.files.values()) if (tf.path === join(dir, name)) return true;
    return false;
  }

  private report(error: FileTailError, key: string = error.path): void {
    if (this.problems.get(key) === error.code) return;
    this.problems.set(key, error.code);
    try {
      this.opts.onError(error);
    } catch {
      // A faulty error handler must not stop the tail.
    }
  }

  private clear(key: string): void {
    this.problems.delete(key);
  }
}

function savedFile(tf: Tracked): SavedFile {
  return {
    path: tf.path,
    dev: tf.dev,
    ino: tf.ino,
    birth: tf.birth,
    fingerprint: tf.fingerprint,
    fingerprintBytes: tf.fingerprintBytes,
    offset: tf.offset,
    skipping: tf.skipping,
    tail: tf.tail.toString('base64'),
    tailEnd: tf.tailEnd,
  };
}

/**
 * Whether an open file is the one a saved position belongs to. (dev, inode) already matched, but inode
 * numbers are reused at once after a delete (ext4, tmpfs). So the creation time must match where the
 * filesystem records one, and the first bytes must match, and the bytes just before the saved position
 * (log lines often start alike, so a short fingerprint alone could match another file).
 */
async function isSameFile(handle: FileHandle, size: number, head: Buffer, birth: string, saved: SavedFile): Promise<boolean> {
  if (birth !== '0' && saved.birth !== '0' && birth !== saved.birth) return false;
  if (saved.offset > size || !sameStart(head, saved.fingerprintBytes, saved.fingerprint)) return false;
  const tail = Buffer.from(saved.tail, 'base64');
  if (tail.length === 0) return true;
  return (await bytesBefore(handle, saved.tailEnd, tail.length)).equals(tail);
}

function errnoCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function sameStart(head: Buffer, bytes: number, fingerprint: string): boolean {
  return head.length >= bytes && sha256(head.subarray(0, bytes)) === fingerprint;
}

/** The first min(size, FINGERPRINT_BYTES) bytes. */
async function readHead(handle: FileHandle, size: number): Promise<Buffer> {
  const want = Math.min(size, FINGERPRINT_BYTES);
  const buf = Buffer.alloc(want);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await handle.read(buf, got, want - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Up to `count` bytes just before `position`. */
async function bytesBefore(handle: FileHandle, position: number, count = TAIL_BYTES): Promise<Buffer> {
  const n = Math.min(count, position);
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await handle.read(buf, got, n - got, position - n + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

async function byteAt(handle: FileHandle, position: number): Promise<number | undefined> {
  const buf = Buffer.alloc(1);
  const { bytesRead } = await handle.read(buf, 0, 1, position);
  return bytesRead === 1 ? buf[0] : undefined;
}
