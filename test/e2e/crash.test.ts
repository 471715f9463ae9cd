// Acknowledged means durable: kill -9 the server right after 2xx answers, restart it, and find every acknowledged event once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVigilProcess } from '../../src/testing/process.js';

const TOKEN = 'vgl_crash-test-admin-token-0123456789';

test('every event acknowledged before kill -9 is stored exactly once after restart', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  const config = join(dir, 'vigil.yaml');
  writeFileSync(config, 'files:\n  enabled: false\nretention:\n  max_age_days: 0\n');
  const args = ['--port', '0', '--syslog-port', '0', '--no-collect', '--data-dir', join(dir, 'data'), '--config', config];
  const env = { VIGIL_ADMIN_TOKEN: TOKEN };
  try {
    const server = await startVigilProcess(args, env);
    const acked: string[] = [];
    const senders: Promise<void>[] = [];
    let killed = false;
    // Four concurrent senders; the server dies while some requests are in flight.
    for (let s = 0; s < 4; s++) {
      senders.push(
        (async () => {
          for (let batch = 0; !killed; batch++) {
            const body = Array.from({ length: 100 }, (_, i) => JSON.stringify({ message: `crash ${s}-${batch}-${i}`, labels: { run: 'crash' } })).join('\n');
            try {
              const response = await fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' }, body });
              if (response.status !== 200) continue;
              const result = (await response.json()) as { ids: string[] };
              acked.push(...result.ids);
              if (acked.length >= 2000 && !killed) {
                killed = true;
                server.child.kill('SIGKILL');
              }
            } catch {
              return; // connection refused or reset: the server is gone
            }
          }
        })(),
      );
    }
    await Promise.all(senders);
    await new Promise((resolve) => (server.child.exitCode !== null || server.child.signalCode !== null ? resolve(null) : server.child.once('exit', resolve)));
    assert.ok(acked.length >= 2000);

    const restarted = await startVigilProcess(args, env);
    try {
      const seen = new Map<string, number>();
      let cursor: string | undefined;
      let total = 0;
      do {
        const response = await fetch(`${restarted.url}/api/v1/events?q=labels.run:crash&limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const page = (await response.json()) as { total: number; events: { event: { id: string } }[]; next: string | null };
        total = page.total;
        for (const e of page.events) seen.set(e.event.id, (seen.get(e.event.id) ?? 0) + 1);
        cursor = page.next ?? undefined;
      } while (cursor);
      const missing = acked.filter((id) => !seen.has(id));
      assert.equal(missing.length, 0, `${missing.length} acknowledged events were lost`);
      assert.ok([...seen.values()].every((n) => n === 1), 'no event is stored twice');
      assert.ok(total >= acked.length);
    } finally {
      restarted.child.kill('SIGTERM');
      await new Promise((resolve) => restarted.child.once('exit', resolve));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
