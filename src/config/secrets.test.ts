// Secrets by value, environment variable or file, errors that name the key and never the value, and the
// enrichment, notification and export blocks' validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './config.js';
import { redact, resolveSecret } from './secrets.js';

test('a secret inline, from the environment or from a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-secrets-'));
  try {
    const file = join(dir, 'key');
    writeFileSync(file, '  from-file\n');
    assert.equal(resolveSecret({ api_key: 'inline' }, 'api_key', 'x', {}), 'inline');
    assert.equal(resolveSecret({ api_key_env: 'KEY' }, 'api_key', 'x', { KEY: 'from-env' }), 'from-env');
    assert.equal(resolveSecret({ api_key_file: file }, 'api_key', 'x', {}), 'from-file');
    assert.equal(resolveSecret({}, 'api_key', 'x', {}), undefined);
    assert.throws(() => resolveSecret({ api_key_env: 'NOPE' }, 'api_key', 'threat_intel.online.otx', {}), /threat_intel.online.otx.api_key_env names NOPE, which is not set/);
    assert.throws(() => resolveSecret({ api_key_file: join(dir, 'missing') }, 'api_key', 'x', {}), /x.api_key_file: cannot read .*missing \(ENOENT\)/);
    writeFileSync(file, '\n');
    assert.throws(() => resolveSecret({ api_key_file: file }, 'api_key', 'x', {}), /is empty/);
    assert.equal(redact('failed for https://hooks.example/T0/B0/s3cr3t-path', ['s3cr3t-path']), 'failed for https://hooks.example/T0/B0/[redacted]');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the new blocks have documented defaults and refuse what cannot work, naming the field', () => {
  const config = parseConfig({});
  assert.equal(config.geoip.enabled, true);
  assert.deepEqual(config.threat_intel.feeds, []);
  assert.equal(config.notifications.public_url, 'http://127.0.0.1:3000');
  assert.deepEqual(config.export, []);
  const bad = (raw: unknown, pattern: RegExp) => assert.throws(() => parseConfig(raw), pattern);
  bad({ threat_intel: { feeds: [{ name: 'x' }] } }, /threat_intel.feeds.0: give exactly one of path or url/);
  bad({ threat_intel: { feeds: [{ name: 'x', path: '/a', url: 'http://b' }] } }, /give exactly one of path or url/);
  bad({ threat_intel: { feeds: [{ name: 'bad name', path: '/a' }] } }, /threat_intel.feeds.0.name/);
  bad({ notifications: { channels: [{ type: 'pager', name: 'x' }] } }, /notifications.channels.0.type/);
  bad({ notifications: { channels: [{ type: 'email', name: 'm', host: 'h', from: 'a@b', to: [] }] } }, /notifications.channels.0.to/);
  bad({ export: [{ name: 'es', urls: ['http://x:9200'], password: 'p' }] }, /export.0: a password needs a username/);
  bad({ export: [{ name: 'es', urls: [] }] }, /export.0.urls/);
});
