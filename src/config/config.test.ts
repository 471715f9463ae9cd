// The configuration: defaults, YAML, environment and flags in that order, and errors that name the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VigilError } from '../core/errors.js';
import { loadConfig, parseConfig } from './config.js';

test('defaults match the documented interface', () => {
  const config = parseConfig({});
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 3000);
  assert.equal(config.syslog.port, 5514);
  assert.equal(config.data_dir, './data');
  assert.equal(config.collect.enabled, true);
  assert.equal(config.files.enabled, true);
});

test('file, then environment, then flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  try {
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'port: 4000\nsyslog:\n  port: 0\nretention:\n  max_age_days: 7\n');
    const fromFile = loadConfig(file, {}, {});
    assert.equal(fromFile.port, 4000);
    assert.equal(fromFile.syslog.port, 0);
    assert.equal(fromFile.retention.max_age_days, 7);
    assert.equal(fromFile.data_dir, resolve('./data'));
    const fromEnv = loadConfig(file, {}, { VIGIL_PORT: '4100', VIGIL_DATA_DIR: dir });
    assert.equal(fromEnv.port, 4100);
    assert.equal(fromEnv.data_dir, dir);
    const fromFlags = loadConfig(file, { port: 4200, syslogPort: 6000, collect: false }, { VIGIL_PORT: '4100' });
    assert.equal(fromFlags.port, 4200);
    assert.equal(fromFlags.syslog.port, 6000);
    assert.equal(fromFlags.collect.enabled, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors name the field, the file, or the variable', () => {
  assert.throws(() => parseConfig({ port: 'x' }), (err: unknown) => err instanceof VigilError && err.id === 'bad_config' && /port/.test(err.message));
  assert.throws(() => parseConfig({ syslog: { prot: 1 } }), (err: unknown) => err instanceof VigilError && /syslog/.test(err.message) && /prot/.test(err.message));
  assert.throws(() => loadConfig('/nonexistent/vigil.yaml', {}, {}), /cannot read the configuration file \/nonexistent\/vigil.yaml/);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  try {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'port: [1,\n');
    assert.throws(() => loadConfig(file, {}, {}), /is not valid YAML/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => loadConfig(undefined, {}, { VIGIL_PORT: 'abc' }), /VIGIL_PORT must be an integer/);
});

test('collect: each collector on with its interval by default; `collect: false` still turns all off', () => {
  const { collect } = parseConfig({});
  assert.deepEqual(
    [collect.network.interval_seconds, collect.metrics.interval_seconds, collect.process.interval_seconds, collect.process.scan_interval_ms, collect.stale_after_intervals],
    [10, 10, 10, 1000, 3],
  );
  assert.ok(collect.network.enabled && collect.metrics.enabled && collect.process.enabled && collect.auth.enabled);
  assert.equal(collect.auth.source, 'auto');
  assert.equal(parseConfig({ collect: false }).collect.enabled, false);
  const tuned = parseConfig({ collect: { metrics: { interval_seconds: 30, per_core: false }, process: { enabled: false }, auth: { source: 'file', paths: ['/var/log/secure'] } } }).collect;
  assert.equal(tuned.metrics.interval_seconds, 30);
  assert.equal(tuned.metrics.per_core, false);
  assert.equal(tuned.process.enabled, false);
  assert.deepEqual(tuned.auth.paths, ['/var/log/secure']);
  assert.throws(() => parseConfig({ collect: { network: { interval_seconds: 0 } } }), /collect\.network\.interval_seconds/);
  assert.throws(() => parseConfig({ collect: { auth: { source: 'syslog' } } }), /collect\.auth\.source/);
  assert.equal(parseConfig({}).agent.max_buffer_mb, 256);
});
