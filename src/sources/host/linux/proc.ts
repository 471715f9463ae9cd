// Small synchronous readers for /proc files. They are tiny and served from kernel memory, so a synchronous read
// costs microseconds where an asynchronous one would pay a thread-pool round trip per file (collectors read hundreds).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The /proc mount to read (`/proc`; tests and the failure tests point elsewhere). */
export type ProcRoot = string;

/** Reads a whole file as text; throws the filesystem error. */
export function readText(path: string): string {
  return readFileSync(path, 'latin1');
}

/** Reads a whole file as text, or returns the error (a process that ended, a file we may not read). */
export function tryReadText(path: string): string | Error {
  try {
    return readFileSync(path, 'latin1');
  } catch (err) {
    return err as Error;
  }
}

/** Reads a whole file as UTF-8 (command lines, user names), or undefined. */
export function tryReadUtf8(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The target of a symbolic link, or undefined. */
export function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export function readDirNames(dir: string): string[] {
  return readdirSync(dir);
}

/** The numeric entries of /proc: one per process (threads are not listed at the top level). */
export function listPids(proc: ProcRoot): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(proc)) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (Number.isInteger(pid)) pids.push(pid);
  }
  return pids;
}
