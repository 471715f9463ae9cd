// Starts a real Vigil (DuckDB store in a temp dir, API on a free port) for tests, and talks to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../config/config.js';
import { startRuntime, type Runtime, type RuntimeOptions } from '../pipeline/runtime.js';

export interface TestVigil {
  runtime: Runtime;
  url: string;
  dataDir: string;
  /** An admin token. */
  token: string;
  /** fetch against the API with the admin token (or `token: null` for none). */
  call(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestVigil(config: Record<string, unknown> = {}, options: RuntimeOptions & { dataDir?: string } = {}): Promise<TestVigil> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-test-'));
  const parsed: Config = parseConfig({ port: 0, data_dir: dataDir, collect: false, files: { enabled: false }, ...config });
  if ((config.syslog as { port?: number } | undefined)?.port === undefined) parsed.syslog.port = 0;
  const runtime = await startRuntime(parsed, { env: {}, ...options });
  const { token } = runtime.credentials.createToken('test admin', 'admin');
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token: override, ...rest } = init;
    const headers = new Headers(rest.headers);
    const use = override === undefined ? token : override;
    if (use !== null) headers.set('authorization', `Bearer ${use}`);
    return fetch(runtime.url + path, { ...rest, headers });
  };
  return {
    runtime,
    url: runtime.url,
    dataDir,
    token,
    call,
    close: async () => {
      await runtime.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
