#!/usr/bin/env node
// Entry point of the `vigil` command: runs the compiled CLI (built by `npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  console.error('vigil: the build is missing (dist/). Run `npm install` (or `npm run build`) in the Vigil folder first.');
  process.exit(1);
}
await import(compiled);
