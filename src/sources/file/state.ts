// Where each tailed file was delivered up to, kept in one small JSON file that is replaced atomically
// (write a temporary file, fsync, rename, fsync the directory) so a crash leaves the old or the new state, never half.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export const STATE_VERSION = 1;

/** One file's saved position. A file is identified by (dev, inode) and a fingerprint of its first bytes. */
export interface SavedFile {
  path: string;
  /** Device and inode numbers as decimal strings (they can exceed 2^53). */
  dev: string;
  ino: string;
  /** Creation time in ns as a decimal string, '0' where the filesystem does not record it. */
  birth: string;
  /** SHA-256 (hex) of the first `fingerprintBytes` bytes: inode numbers are reused after a delete. */
  fingerprint: string;
  fingerprintBytes: number;
  /** Byte offset of the first byte not yet delivered. */
  offset: number;
  /** The bytes at `offset` are the rest of a cut over-long line, to be skipped up to the next LF. */
  skipping: boolean;
  /** Base64 of the (up to 64) bytes before `tailEnd`, delivered bytes that must still be there for this to be the same file. */
  tail: string;
  tailEnd: number;
}

export interface LoadedState {
  files: SavedFile[];
  /** Why the state file could not be used (it is then ignored), if so. */
  problem?: string;
}

export async function loadTailState(statePath: string): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(statePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [] };
    return { files: [], problem: `cannot read the state file: ${(err as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { files: [], problem: 'the state file is not valid JSON; starting without saved offsets' };
  }
  if (typeof doc !== 'object' || doc === null || (doc as { version?: unknown }).version !== STATE_VERSION) {
    return { files: [], problem: `the state file is not version ${STATE_VERSION}; starting without saved offsets` };
  }
  const items = (doc as { files?: unknown }).files;
  if (!Array.isArray(items)) return { files: [], problem: 'the state file has no files list' };
  const files: SavedFile[] = [];
  for (const item of items) {
    const saved = toSavedFile(item);
    if (saved) files.push(saved);
  }
  return { files };
}

function toSavedFile(item: unknown): SavedFile | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const r = item as Record<string, unknown>;
  const { path, dev, ino, birth, fingerprint, fingerprintBytes, offset, skipping, tail, tailEnd } = r;
  if (typeof path !== 'string' || typeof dev !== 'string' || typeof ino !== 'string' || typeof fingerprint !== 'string') return undefined;
  if (!isCount(fingerprintBytes) || !isCount(offset)) return undefined;
  const tailOk = typeof tail === 'string' && isCount(tailEnd);
  return {
    path,
    dev,
    ino,
    birth: typeof birth === 'string' && /^[0-9]{1,30}$/.test(birth) ? birth : '0',
    fingerprint,
    fingerprintBytes,
    offset,
    skipping: skipping === true,
    tail: tailOk ? tail : '',
    tailEnd: tailOk ? tailEnd : 0,
  };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export async function saveTailState(statePath: string, files: readonly SavedFile[]): Promise<void> {
  const dir = dirname(statePath);
  await mkdir(dir, { recursive: true });
  const body = JSON.stringify({ version: STATE_VERSION, files }, null, 1) + '\n';
  const tmp = `${statePath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, statePath);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The rename is durable only once the directory entry is on disk (fsync(2) on the directory).
  try {
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  }
}
