// A real Vigil for the browser tests: `vigil start` in a process of its own (a config file, a data dir, free ports,
// this machine's metrics collected), fed by `vigil simulate` through its syslog and HTTP inputs, and restartable on
// the same data dir and port.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runVigil, startVigilProcess, type RunResult, type ServerProcess } from '../../src/testing/process.js';

export interface UiVigil {
  url: string;
  dataDir: string;
  syslogPort: number;
  /** An admin API token (VIGIL_ADMIN_TOKEN of the process). */
  token: string;
  /** fetch against the API with the admin token. */
  call(path: string, init?: RequestInit): Promise<Response>;
  /** `vigil simulate ARGS…` against this server, with the admin token. */
  simulate(args: string[]): Promise<RunResult>;
  /** Stops the process (SIGTERM) and starts it again on the same data dir and port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP port nobody listens on now (the OS picks it; the UDP port of the same number is almost always free too). */

async function stop(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

export async function startUiVigil(options: { password: string }): Promise<UiVigil> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-ui-'));
  const [port, syslogPort] = [await freePort(), await freePort()];
  const token = `vgl_${randomBytes(24).toString('base64url')}`;
  const config = join(dataDir, 'vigil.yaml');
  // This machine's resources every 2 s (so System health has figures and "last seen" moves); no file tails and no
  // auth collector, so the data are the simulator's alone.
  writeFileSync(
    config,
    [
      'files: { enabled: false }',
      'collect:',
      '  metrics: { interval_seconds: 2, per_core: false }',
      '  network: { interval_seconds: 2 }',
      '  process: { enabled: false }',
      '  auth: { enabled: false }',
      '',
    ].join('\n'),
  );
  const args = ['--config', config, '--data-dir', dataDir, '--port', String(port), '--syslog-port', String(syslogPort)];
  const env = { VIGIL_ADMIN_PASSWORD: options.password, VIGIL_ADMIN_TOKEN: token };
  let server = await startVigilProcess(args, env);
  const url = server.url;
  return {
    url,
    dataDir,
    syslogPort,
    token,
    call: (path, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(url + path, { ...init, headers });
    },
    simulate: (more) => runVigil(['simulate', '--server', url, '--token', token, '--syslog', `127.0.0.1:${syslogPort}`, ...more]),
    restart: async () => {
      await stop(server);
      server = await startVigilProcess(args, env);
    },
    close: async () => {
      await stop(server);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
