// The file tailer's options, checked and compiled once at start (bad configuration fails there, not per line).
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { VigilError } from '../../core/errors.js';
import { compilePathPattern, type PathPattern } from './glob.js';

export interface TailTarget {
  /** Absolute path; `*` and `?` are allowed in the last path component only. */
  path: string;
  /** Parser name (`sshd`, `nginx`, `apache`, `syslog`, `json`, `auto` …). */
  format: string;
}

/** A problem with one file or with the pipeline, reported once until it clears; never fatal. */
export interface FileTailError {
  /** The file or directory concerned (or the state file). */
  path: string;
  /** Bounded reason: an errno code (`EACCES`) or `is_directory`, `not_a_file`, `ingest_failed`, `state_unreadable`, `state_write_failed`, `internal`. */
  code: string;
  message: string;
  cause?: unknown;
}

export interface FileTailOptions {
  targets: TailTarget[];
  /** JSON file where offsets persist. */
  statePath: string;
  /** How often files are checked when no change notification arrives (ms); default 1000. */
  pollMs?: number;
  /** Where to start in a file that existed at start and was never seen before; default `end`. Files that appear later are read from the beginning. */
  startAt?: 'beginning' | 'end';
  /** Longer lines are cut to this many bytes and the rest skipped; default 64 KiB. */
  maxLineBytes?: number;
  /** Lines per `ingestLines` call; default 1000. */
  batchSize?: number;
  /** `host.name` for lines that name no host; default this machine's hostname. */
  hostName?: string;
  /** Use fs.watch notifications besides polling; default true. */
  watch?: boolean;
  /**
   * How long a file that was renamed away or deleted is still read after it last grew (ms); default 5000.
   * Writers keep appending to the old file until they reopen their log (nginx after USR1, rsyslog after HUP).
   */
  rotatedGraceMs?: number;
  /** Where per-file problems go; default console.warn. Each distinct problem is reported once. */
  onError?: (error: FileTailError) => void;
}

export interface FileTail {
  /** Stops timers and watchers, waits for the batch in flight, persists offsets and closes the files. */
  close(): Promise<void>;
  /** Resolves when every target has been read to its current end (for tests and batch imports). */
  idle(): Promise<void>;
}

export interface CompiledTarget extends PathPattern {
  path: string;
  format: string;
}

export interface ResolvedOptions {
  targets: CompiledTarget[];
  statePath: string;
  pollMs: number;
  startAt: 'beginning' | 'end';
  maxLineBytes: number;
  batchSize: number;
  hostName: string;
  watch: boolean;
  rotatedGraceMs: number;
  onError: (error: FileTailError) => void;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

export function resolveOptions(options: FileTailOptions): ResolvedOptions {
  const targets: CompiledTarget[] = [];
  options.targets.forEach((target, index) => {
    const where = `targets[${index}]`;
    if (typeof target.path !== 'string' || target.path === '') throw new VigilError('bad_config', 'a tailed file needs a path', { location: where });
    if (typeof target.format !== 'string' || target.format === '') throw new VigilError('bad_config', 'a tailed file needs a format', { location: where });
    if (!isAbsolute(target.path)) throw new VigilError('bad_config', `the path of a tailed file must be absolute: ${target.path}`, { location: where });
    const path = resolve(target.path);
    const pattern = compilePathPattern(path);
    if (!pattern) throw new VigilError('bad_config', `wildcards are allowed in the file name only: ${target.path}`, { location: where });
    targets.push({ path, format: target.format, ...pattern });
  });
  if (options.startAt !== undefined && options.startAt !== 'beginning' && options.startAt !== 'end') {
    throw new VigilError('bad_config', "startAt must be 'beginning' or 'end'", { location: 'startAt' });
  }
  return {
    targets,
    statePath: resolve(options.statePath),
    pollMs: positive(options.pollMs, 1000, 'pollMs'),
    startAt: options.startAt ?? 'end',
    maxLineBytes: positive(options.maxLineBytes, DEFAULT_MAX_LINE_BYTES, 'maxLineBytes'),
    batchSize: positive(options.batchSize, 1000, 'batchSize'),
    hostName: options.hostName ?? hostname(),
    watch: options.watch ?? true,
    rotatedGraceMs: options.rotatedGraceMs === undefined ? 5000 : nonNegative(options.rotatedGraceMs, 'rotatedGraceMs'),
    onError: options.onError ?? ((e) => console.warn(`vigil: file tail: ${e.path}: ${e.message}`)),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new VigilError('bad_config', `${name} must be a positive integer`, { location: name });
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new VigilError('bad_config', `${name} must not be negative`, { location: name });
  return value;
}
