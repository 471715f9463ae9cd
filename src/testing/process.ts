// Runs the real `vigil` command in a child process (through tsx, from the sources) for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vigil ARGS…` to completion. */
export function runVigil(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

export interface ProcessLimits {
  /**
   * RLIMIT_FSIZE in KiB: a write past this offset in any file fails with EFBIG, as on a full disk (SIGXFSZ is
   * ignored, so the write fails instead of killing the process). Started through bash's `ulimit -f`.
   */
  fileSizeKiB?: number;
}

/** Starts `vigil start ARGS…` and resolves with its URL once it says it is running. */
export function startVigilProcess(args: string[], env: NodeJS.ProcessEnv = {}, limits: ProcessLimits = {}): Promise<ServerProcess> {
  const argv = [process.execPath, '--import', 'tsx', MAIN, 'start', ...args];
  const [command, commandArgs] =
    limits.fileSizeKiB === undefined ? [argv[0]!, argv.slice(1)] : ['bash', ['-c', `trap '' XFSZ; ulimit -f ${Math.floor(limits.fileSizeKiB)} && exec "$@"`, 'bash', ...argv]];
  return startUntil(command, commandArgs, env, /Vigil is running on (\S+)/, 'vigil');
}

/** Starts `vigil agent ARGS…` and resolves once it says it is running. */
export function startAgentProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  return startUntil(process.execPath, ['--import', 'tsx', MAIN, 'agent', ...args], env, /Vigil agent is running: shipping to (\S+)/, 'the agent');
}

/** Spawns a process and resolves once its output matches `running` (whose first group is the URL). */
function startUntil(command: string, args: string[], env: NodeJS.ProcessEnv, running: RegExp, name: string): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${out}`)), 60_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = running.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was running:\n${out}`));
    });
  });
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it), for a server started in another process. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
