// Users and tokens in a bus deployment: every process with an HTTP API (ingest, store, api) keeps `auth.json` in
// its own data directory, as a single process does, and the bus keeps the deployment's copy in a JetStream
// key-value entry. A process takes the bus's copy at start and whenever it changes; a change made to its own file
// (`vigil user add`, `vigil token create` run beside it) goes to the bus, and so to every other process within
// about a second. The first process of a deployment creates the admin user and token; the others take them.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvWatchInclude, type KV } from '@nats-io/kv';
import { Credentials } from '../api/auth/credentials.js';
import { errorMessage } from '../core/errors.js';
import { BUCKETS, type Bus } from './connection.js';

const KEY = 'auth';
/** How often the local file is checked for changes made beside the process (the CLI). */
const POLL_MS = 1000;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export class CredentialsSync {
  private readonly file: string;
  /** The text last taken from or given to the bus. */
  private last: string | undefined;
  private mtime = -1;
  private timer: NodeJS.Timeout | undefined;
  private watching: { stop(): void } | undefined;
  private pushing = false;

  private constructor(
    private readonly kv: KV,
    dataDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.file = join(dataDir, 'auth.json');
  }

  /**
   * Brings this data directory's users and tokens in line with the deployment's. Returns what a first start must show
   * (the generated admin password and token) only in the process that created them.
   */
  static async start(bus: Bus, dataDir: string, adminPassword?: string, log: (line: string) => void = (line) => console.error(line)): Promise<{ sync: CredentialsSync; firstStart: { password?: string; token: string } | undefined }> {
    const sync = new CredentialsSync(await bus.kv(BUCKETS.auth), dataDir, log);
    let firstStart: { password?: string; token: string } | undefined;
    const entry = await sync.kv.get(KEY);
    if (entry && entry.operation === 'PUT') {
      sync.take(entry.string());
    } else {
      // The deployment has no users yet: this process makes the first admin and offers its file to the others.
      firstStart = new Credentials(dataDir).bootstrap(adminPassword);
      const text = readText(sync.file) ?? '';
      try {
        await sync.kv.create(KEY, text);
        sync.last = text;
      } catch {
        // Another process was first: its admin is the deployment's.
        firstStart = undefined;
        const theirs = await sync.kv.get(KEY);
        if (theirs) sync.take(theirs.string());
      }
    }
    sync.mtime = sync.fileMtime();
    await sync.follow();
    return { sync, firstStart };
  }

  private fileMtime(): number {
    try {
      return statSync(this.file).mtimeMs;
    } catch {
      return -1;
    }
  }

  /** Writes the bus's copy to the local file (atomically, as Credentials does), where the API re-reads it. */
  private take(text: string): void {
    this.last = text;
    if (readText(this.file) === text) return;
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.sync.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    this.mtime = this.fileMtime();
  }

  private async follow(): Promise<void> {
    const watch = await this.kv.watch({ key: KEY, include: KvWatchInclude.UpdatesOnly });
    this.watching = watch;
    void (async () => {
      try {
        for await (const entry of watch) if (entry.operation === 'PUT' && entry.string() !== this.last) this.take(entry.string());
      } catch (err) {
        this.log(`vigil: users and tokens from the bus: ${errorMessage(err)}`);
      }
    })();
    this.timer = setInterval(() => void this.push(), POLL_MS);
    this.timer.unref();
  }

  /** The local file changed (the CLI): the deployment gets it. */
  private async push(): Promise<void> {
    if (this.pushing) return;
    const mtime = this.fileMtime();
    if (mtime === this.mtime) return;
    this.pushing = true;
    try {
      const text = readText(this.file);
      if (text === undefined || text === this.last) {
        this.mtime = mtime;
        return;
      }
      await this.kv.put(KEY, text);
      this.last = text;
      this.mtime = mtime;
    } catch (err) {
      this.log(`vigil: cannot give the bus this process's users and tokens (${errorMessage(err)}); will retry`);
    } finally {
      this.pushing = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.watching?.stop();
  }
}
