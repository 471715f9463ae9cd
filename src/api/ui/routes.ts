// Serves the dashboard built into dist/web/: pages (one HTML shell for every page path) under a strict Content
// Security Policy, and content-hashed assets cached for a year. Everything is read into memory once at start.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../../core/errors.js';

/** dist/web/ at the repository root, the same from src/api/ui/ (tsx) and from dist/api/ui/ (compiled). */
export const WEB_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** The dashboard's page paths; each answers the same HTML shell, and the page's script shows the right view. */
export const PAGE_PATHS = ['/', '/login', '/overview', '/logs', '/alerts', '/alerts/:id', '/incidents', '/incidents/:id', '/map', '/health', '/rules', '/models'];

/**
 * The policy for pages: scripts and styles only from this origin (no inline script, no eval, no inline style
 * markup), data only from this API, no framing. Trusted Types with no policy makes every HTML-parsing sink
 * (innerHTML, document.write …) throw, so event data can reach the page only as text.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface StaticFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
}

function load(path: string): StaticFile {
  const body = readFileSync(path);
  const gzPath = `${path}.gz`;
  return {
    body,
    gzip: existsSync(gzPath) ? readFileSync(gzPath) : undefined,
    type: TYPES[extname(path)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

const MISSING = Buffer.from(
  '<!doctype html><meta charset="utf-8"><title>Vigil</title><p>The dashboard is not built. Run <code>npm install</code> or <code>npm run build</code> in the Vigil folder, then restart. The API works without it.</p>',
);

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile, cache: string): FastifyReply {
  void reply.header('content-type', file.type).header('cache-control', cache).header('etag', file.etag).header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const accepts = String(request.headers['accept-encoding'] ?? '');
  if (file.gzip && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

export function registerUiRoutes(app: FastifyInstance, options: { webDir?: string } = {}): void {
  const dir = options.webDir ?? WEB_DIR;
  const assets = new Map<string, StaticFile>();
  let shell: StaticFile;
  if (existsSync(join(dir, 'index.html'))) {
    shell = load(join(dir, 'index.html'));
    const assetDir = join(dir, 'assets');
    for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
      if (name.endsWith('.gz') || !/^[A-Za-z0-9._-]+$/.test(name)) continue;
      assets.set(name, load(join(assetDir, name)));
    }
  } else {
    shell = { body: MISSING, gzip: undefined, type: TYPES['.html']!, etag: '"missing"' };
  }

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header('content-security-policy', PAGE_CSP);
    // Pages are always revalidated, so a new build is picked up at once; assets they name never change.
    return send(request, reply, shell, 'no-cache');
  };
  for (const path of PAGE_PATHS) app.get(path, { config: { access: 'public' }, schema: { hide: true } }, page);

  app.get<{ Params: { name: string } }>('/assets/:name', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
    const file = assets.get(request.params.name);
    if (!file) throw new VigilError('not_found', 'no such asset');
    // Hashed names (name-HASH.ext) never change content; the rest revalidate.
    const hashed = /-[A-Z0-9]{8,}\.[a-z0-9]+$/.test(request.params.name);
    return send(request, reply, file, hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
  });
}
