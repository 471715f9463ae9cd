#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point of the `vigil` command: runs the compiled CLI (built by `npm install`).
// A 64 MB young generation (V8's default is 16): events live for the few milliseconds until they are stored, which
// the default promotes to the old generation; ingest spends 10-15% less CPU with it (bench/pipeline.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  console.error('vigil: the build is missing (dist/). Run `npm install` (or `npm run build`) in the Vigil folder first.');
  process.exit(1);
}
await import(compiled);
