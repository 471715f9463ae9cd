import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestVigil } from '../../testing/runtime.js';
import { PAGE_CSP, WEB_DIR } from './routes.js';

const built = existsSync(join(WEB_DIR, 'index.html'));

test('pages are served under a strict CSP and revalidated; hashed assets are typed, gzipped and cached for a year', { skip: built ? false : 'the dashboard is not built (npm run build)' }, async () => {
  const vigil = await startTestVigil();
  try {
    for (const path of ['/', '/overview', '/logs', '/alerts/some-id', '/map']) {
      const res = await fetch(vigil.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('content-security-policy'), PAGE_CSP);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      const html = await res.text();
      assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    }
    assert.doesNotMatch(PAGE_CSP, /unsafe-inline|unsafe-eval/);
    assert.match(PAGE_CSP, /script-src 'self'/);

    const js = readdirSync(join(WEB_DIR, 'assets')).find((f) => /^main-.*\.js$/.test(f))!;
    const asset = await fetch(`${vigil.url}/assets/${js}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(asset.headers.get('content-encoding'), 'gzip');
    const etag = asset.headers.get('etag')!;
    assert.equal((await fetch(`${vigil.url}/assets/${js}`, { headers: { 'if-none-match': etag } })).status, 304);
    const css = readdirSync(join(WEB_DIR, 'assets')).find((f) => /^main-.*\.css$/.test(f))!;
    assert.match((await fetch(`${vigil.url}/assets/${css}`)).headers.get('content-type') ?? '', /^text\/css/);
    assert.equal((await fetch(`${vigil.url}/assets/..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${vigil.url}/assets/nope.js`)).status, 404);
    // The API is untouched: its routes still need credentials.
    assert.equal((await fetch(`${vigil.url}/api/v1/events`)).status, 401);
  } finally {
    await vigil.close();
  }
});
