// Golden tests: each case in testdata/golden/*.json is a line, a format and the ECS fields it must give
// (a null value means the field must be absent), or the reason it must be refused with.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getField } from '../core/event.js';
import { parseLine } from './index.js';

interface GoldenCase {
  name?: string;
  line: string;
  format?: string;
  now?: string;
  year?: number;
  expect?: Record<string, unknown>;
  ok?: false;
  reason?: string;
}

interface GoldenFile {
  description: string;
  defaultFormat: string;
  cases: GoldenCase[];
}

const dir = new URL('./testdata/golden/', import.meta.url);
const DEFAULT_NOW = '2024-03-01T00:00:00Z';

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const golden = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as GoldenFile;
  describe(`golden ${file}`, () => {
    for (const c of golden.cases) {
      const format = c.format ?? golden.defaultFormat;
      it(`${c.name ?? c.line.slice(0, 100)} [${format}]`, () => {
        const ctx = { now: Date.parse(c.now ?? DEFAULT_NOW), ...(c.year !== undefined ? { year: c.year } : {}) };
        const outcome = parseLine(c.line, format, ctx);
        if (c.ok === false) {
          assert.deepEqual(outcome, { ok: false, reason: c.reason });
          return;
        }
        assert.ok(outcome.ok, `refused: ${outcome.ok ? '' : outcome.reason}`);
        const fields = outcome.fields as Record<string, unknown>;
        for (const [path, want] of Object.entries(c.expect ?? {})) {
          const got = getField(fields, path);
          if (want === null) assert.equal(got, undefined, `${path} should be absent`);
          else assert.deepEqual(got, want, path);
        }
      });
    }
  });
}
