// `vigil intel` as a user runs it: a real child process, a feed file, locally and against a running server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVigil } from '../testing/process.js';
import { startTestVigil } from '../testing/runtime.js';

test('vigil intel lookup and feeds, from the configuration and from a server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-intel-cli-'));
  const feed = join(dir, 'feed.txt');
  writeFileSync(feed, '203.0.113.0/24\nevil.example\n');
  const configFile = join(dir, 'vigil.yaml');
  writeFileSync(configFile, `data_dir: ${join(dir, 'data')}\nthreat_intel:\n  feeds:\n    - { name: scanners, path: ${feed} }\n`);
  const vigil = await startTestVigil({ threat_intel: { feeds: [{ name: 'scanners', path: feed }] } });
  try {
    const local = await runVigil(['intel', 'lookup', '203.0.113.9', '--config', configFile]);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /scanners: 203\.0\.113\.0\/24 \[ipv4-addr\]/);
    assert.match(local.stdout, /documentation address/);
    const sub = await runVigil(['intel', 'lookup', 'cdn.evil.example', '--config', configFile, '--json']);
    assert.deepEqual((JSON.parse(sub.stdout) as { feeds: { feed: string }[] }).feeds.map((f) => f.feed), ['scanners']);
    const feeds = await runVigil(['intel', 'feeds', '--config', configFile]);
    assert.match(feeds.stdout, /scanners {2}2 indicators \(1 cidr, 1 domain\), loaded \d+ s ago/);
    const bad = await runVigil(['intel', 'lookup', 'what?', '--config', configFile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /is not an IP address, CIDR block, domain, URL or file hash/);

    await vigil.call('/api/v1/events?format=sshd', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Mar  3 11:00:01 web1 sshd[100]: Failed password for root from 203.0.113.9 port 5000 ssh2' });
    await vigil.runtime.pipeline.idle();
    const remote = await runVigil(['intel', 'lookup', '203.0.113.9', '--server', vigil.url, '--token', vigil.token]);
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stdout, /Events: [12] \(query: source\.ip:"203\.0\.113\.9"/);
    assert.match(remote.stdout, /web1/);
  } finally {
    await vigil.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
