// Starts real `nats-server` processes (Debian's) with JetStream on loopback for tests and benchmarks: one node, or a
// cluster of three whose JetStream replicates streams (RAFT), each on free ports in a temporary folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

/** The Debian binary; tests that need it are skipped where it is missing (scripts/test.sh installs it as root). */
export const NATS_SERVER = process.env.NATS_SERVER ?? 'nats-server';

export function natsServerAvailable(): boolean {
  const r = spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

export interface NatsNode {
  name: string;
  port: number;
  url: string;
  child: ChildProcess | undefined;
  /** Everything the server logged. */
  log(): string;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's URL, comma-separated, as `bus:` takes them. */
  url: string;
  /** Kills a node at once (SIGKILL), as a crash would. */
  kill(name: string): Promise<void>;
  /** Stops every node and removes the folder. */
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `size` nodes (1, or 3 for a cluster) and resolves once JetStream answers on each. */
export async function startNats(options: { size?: 1 | 3 } = {}): Promise<NatsCluster> {
  const size = options.size ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-nats-'));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = size > 1 ? await Promise.all(Array.from({ length: size }, () => freePort())) : [];
  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    mkdirSync(join(dir, name), { recursive: true });
    const lines = [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${ports[i]}`,
      // Small limits: tests write little, and the machine is shared.
      `jetstream { store_dir: "${join(dir, name)}", max_memory_store: 64MB, max_file_store: 2GB }`,
    ];
    if (size > 1) {
      const peers = routes.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`);
      lines.push(`cluster { name: vigil, listen: 127.0.0.1:${routes[i]}, routes: [${peers.join(', ')}] }`);
    }
    const config = join(dir, `${name}.conf`);
    writeFileSync(config, lines.join('\n') + '\n');
    let log = '';
    const child = spawn(NATS_SERVER, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    nodes.push({ name, port: ports[i]!, url: `nats://127.0.0.1:${ports[i]}`, child, log: () => log });
  }
  const cluster: NatsCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    kill: async (name) => {
      const node = nodes.find((n) => n.name === name);
      if (!node?.child) return;
      const child = node.child;
      node.child = undefined;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    close: async () => {
      await Promise.all(
        nodes.map(async (n) => {
          const child = n.child;
          n.child = undefined;
          if (!child || child.exitCode !== null) return;
          await new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          });
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => waitForJetStream(n)));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** Waits until the node answers JetStream API requests (in a cluster: once a metadata leader is elected). */
async function waitForJetStream(node: NatsNode): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (node.child?.exitCode !== null && node.child?.exitCode !== undefined) throw new Error(`nats-server ${node.name} exited:\n${node.log()}`);
    try {
      const nc = await connect({ servers: node.url, reconnect: false, timeout: 1000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        await jsm.getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`nats-server ${node.name} did not offer JetStream within 30 s (${String(last)}):\n${node.log()}`);
}
