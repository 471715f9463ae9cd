// Builds the dashboard (web/) into dist/web/: one hashed JS bundle, one hashed CSS file, the world map data, and
// index.html naming them, each also gzipped. Run by `npm install` (prepare), `npm run build` and `npm test`.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'web');
const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(root, 'web', 'src', 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  minify: true,
  sourcemap: true,
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => /^main-.*\.js$/.test(f));
const css = outputs.find((f) => /^main-.*\.css$/.test(f));
if (!js || !css) throw new Error(`build-web: missing outputs in ${outputs.join(', ')}`);

const template = readFileSync(join(root, 'web', 'index.html'), 'utf8');
writeFileSync(join(out, 'index.html'), template.replace('%CSS%', `/assets/${css}`).replace('%JS%', `/assets/${js}`));
writeFileSync(join(out, 'assets', 'favicon.svg'), readFileSync(join(root, 'web', 'favicon.svg')));
// Natural Earth country shapes (public domain, via the world-atlas package), drawn by the threat map without tiles.
writeFileSync(join(out, 'assets', 'countries-110m.json'), readFileSync(join(root, 'node_modules', 'world-atlas', 'countries-110m.json')));

// Precompressed copies, served to browsers that accept gzip.
let bytes = 0;
let gzBytes = 0;
for (const dir of [out, join(out, 'assets')]) {
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    if (!name.isFile() || name.name.endsWith('.gz') || name.name.endsWith('.map')) continue;
    const body = readFileSync(join(dir, name.name));
    const gz = gzipSync(body, { level: 9 });
    bytes += body.length;
    gzBytes += gz.length;
    writeFileSync(join(dir, `${name.name}.gz`), gz);
  }
}
console.log(`build-web: dist/web in ${Date.now() - started} ms (${(bytes / 1024).toFixed(0)} KiB, ${(gzBytes / 1024).toFixed(0)} KiB gzipped)`);
