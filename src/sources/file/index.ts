// The file source: follows log files on this host (rotation-safe, resumable) and hands their lines to the pipeline.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Ingest } from '../../core/ingest.js';
import { compilePathPattern } from './glob.js';
import { resolveOptions, type FileTail, type FileTailOptions, type TailTarget } from './options.js';
import { FileTailer } from './tailer.js';

export type { FileTail, FileTailError, FileTailOptions, TailTarget } from './options.js';
export { DEFAULT_MAX_LINE_BYTES } from './options.js';

/**
 * Starts following `options.targets`. Resolves once every existing file's start position is fixed (so lines
 * appended after this resolves are delivered even with `startAt: 'end'`); reading goes on in the background.
 * Throws a `bad_config` VigilError for invalid options; problems with individual files are never fatal.
 */
export async function startFileTail(options: FileTailOptions, ingest: Ingest): Promise<FileTail> {
  const tailer = new FileTailer(resolveOptions(options), ingest);
  try {
    await tailer.start();
  } catch (err) {
    await tailer.close();
    throw err;
  }
  return tailer;
}

/**
 * This host's usual logs, only those that exist: the auth log (Debian's /var/log/auth.log or Red Hat's
 * /var/log/secure) as `sshd`, nginx access logs (with their renamed rotations, so a rename loses nothing)
 * as `nginx`, and Apache's access log as `apache`. `root` is for tests; `authLog: false` leaves the auth log to the
 * host auth collector.
 */
export function defaultTailTargets(root = '/', options: { authLog?: boolean } = {}): TailTarget[] {
  const at = (path: string): string => join(root, path);
  const targets: TailTarget[] = [];
  const auth = [at('var/log/auth.log'), at('var/log/secure')].find(isFile);
  if (auth && options.authLog !== false) targets.push({ path: auth, format: 'sshd' });
  const nginx = at('var/log/nginx/access.log*');
  if (anyMatch(nginx)) targets.push({ path: nginx, format: 'nginx' });
  for (const path of [at('var/log/apache2/access.log'), at('var/log/httpd/access_log')]) {
    if (isFile(path)) targets.push({ path, format: 'apache' });
  }
  return targets;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function anyMatch(path: string): boolean {
  const pattern = compilePathPattern(path);
  const matches = pattern?.matches;
  if (!pattern || !matches) return isFile(path);
  try {
    return readdirSync(pattern.dir).some((name) => matches(name) && isFile(join(pattern.dir, name)));
  } catch {
    return false;
  }
}
