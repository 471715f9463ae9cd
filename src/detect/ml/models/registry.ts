// Model versions of one detector on disk, under <data_dir>/models/<detector>/: vNNNNNN.json (metadata, feature
// profile, thresholds, score distribution) and vNNNNNN.iforest (the binary forest, checksummed), plus active.json
// naming the version in use. Every write goes to a temporary file that is synced and renamed, so a crash leaves the
// old file or the new one, never half of one. A file that fails to load is reported and skipped, never fatal.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError, errorMessage } from '../../../core/errors.js';
import { forestFromBinary, forestToBinary } from '../iforest/serialize.js';
import { forestFile, metaFile, MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelMeta, type TrainedModel } from './model.js';

export interface VersionEntry {
  version: number;
  meta?: ModelMeta;
  /** Why the version cannot be used, when it cannot. */
  error?: string;
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot sync a directory; the rename is still atomic.
  }
}

function checkMeta(raw: unknown, detector: string, version: number, origin: string): ModelMeta {
  const meta = raw as Partial<ModelMeta> | null;
  if (meta === null || typeof meta !== 'object' || meta.format !== MODEL_FORMAT) throw new VigilError('bad_request', `${origin} is not a Vigil model description`);
  if (typeof meta.format_version !== 'number' || meta.format_version > MODEL_FORMAT_VERSION) {
    throw new VigilError('bad_request', `${origin} has model format ${String(meta.format_version)}, newer than this Vigil reads (${MODEL_FORMAT_VERSION}); retrain or upgrade`);
  }
  if (meta.detector !== detector || meta.version !== version) throw new VigilError('bad_request', `${origin} describes ${String(meta.detector)} version ${String(meta.version)}`);
  if (!Array.isArray(meta.features) || meta.features.length === 0 || !meta.thresholds || !meta.histogram || !meta.training || !meta.forest) {
    throw new VigilError('bad_request', `${origin} lacks features, thresholds, histogram or training details`);
  }
  return meta as ModelMeta;
}

export class ModelRegistry {
  readonly dir: string;
  /** list() answers, by version, with the modification times they were read at: the API asks often. */
  private readonly listed = new Map<number, { stamp: string; entry: VersionEntry }>();

  constructor(
    root: string,
    readonly detector: string,
    private readonly maxVersions: number,
  ) {
    this.dir = join(root, detector);
  }

  /** Version numbers that have a metadata file, ascending. */
  versions(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const name of names) {
      const m = /^v(\d{6,})\.json$/.exec(name);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  nextVersion(): number {
    const all = this.versions();
    return (all[all.length - 1] ?? 0) + 1;
  }

  activeVersion(): number | undefined {
    try {
      const raw = JSON.parse(readFileSync(join(this.dir, 'active.json'), 'utf8')) as { version?: unknown };
      return typeof raw.version === 'number' && Number.isInteger(raw.version) ? raw.version : undefined;
    } catch {
      return undefined;
    }
  }

  setActive(version: number): void {
    mkdirSync(this.dir, { recursive: true });
    writeAtomic(join(this.dir, 'active.json'), JSON.stringify({ version }) + '\n');
    syncDir(this.dir);
  }

  /** Writes a new version (forest first, then its description) and makes it active; prunes old versions. */
  save(model: TrainedModel): void {
    mkdirSync(this.dir, { recursive: true });
    const { version } = model.meta;
    writeAtomic(join(this.dir, forestFile(version)), forestToBinary(model.forest));
    writeAtomic(join(this.dir, metaFile(version)), JSON.stringify(model.meta, null, 1) + '\n');
    syncDir(this.dir);
    this.setActive(version);
    this.prune(version);
  }

  readMeta(version: number): ModelMeta {
    const path = join(this.dir, metaFile(version));
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new VigilError('bad_request', `cannot read ${path}: ${errorMessage(err)}`);
    }
    return checkMeta(raw, this.detector, version, path);
  }

  /** Loads and validates one version: its description, its forest, and that they agree. */
  load(version: number): TrainedModel {
    const meta = this.readMeta(version);
    const path = join(this.dir, meta.forest.file);
    if (meta.forest.file !== forestFile(version)) throw new VigilError('bad_request', `${metaFile(version)} names an unexpected forest file ${meta.forest.file}`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new VigilError('bad_request', `cannot read ${path}: ${errorMessage(err)}`);
    }
    const forest = forestFromBinary(bytes, path);
    if (forest.features !== meta.features.length) throw new VigilError('bad_request', `${path} expects ${forest.features} features, its description lists ${meta.features.length}`);
    return { meta, forest };
  }

  /** Every version with its description, or the reason it cannot be used (re-read only when its files change). */
  list(): VersionEntry[] {
    const versions = this.versions();
    for (const v of [...this.listed.keys()]) if (!versions.includes(v)) this.listed.delete(v);
    return versions.map((version) => {
      const stamp = [metaFile(version), forestFile(version)]
        .map((name) => {
          try {
            const st = statSync(join(this.dir, name));
            return `${st.mtimeMs}:${st.size}`;
          } catch {
            return 'missing';
          }
        })
        .join('|');
      const cached = this.listed.get(version);
      if (cached && cached.stamp === stamp) return cached.entry;
      let entry: VersionEntry;
      try {
        entry = { version, meta: this.load(version).meta };
      } catch (err) {
        entry = { version, error: errorMessage(err) };
      }
      this.listed.set(version, { stamp, entry });
      return entry;
    });
  }

  /**
   * The model to start with: the active version, or when it cannot be loaded the newest older one that can (which
   * becomes active). Problems are answered, not thrown.
   */
  loadActive(): { model?: TrainedModel; problems: string[] } {
    const problems: string[] = [];
    const active = this.activeVersion();
    const candidates = this.versions().reverse();
    const order = active === undefined ? candidates : [active, ...candidates.filter((v) => v < active)];
    for (const version of order) {
      try {
        const model = this.load(version);
        if (version !== active) {
          if (active !== undefined) problems.push(`fell back to version ${version}`);
          this.setActive(version);
        }
        return { model, problems };
      } catch (err) {
        problems.push(`version ${version}: ${errorMessage(err)}`);
      }
    }
    return { problems };
  }

  /** Keeps the newest `maxVersions` versions and the active one. */
  private prune(active: number): void {
    const all = this.versions();
    const keep = new Set(all.slice(-this.maxVersions));
    keep.add(active);
    for (const version of all) {
      if (keep.has(version)) continue;
      rmSync(join(this.dir, metaFile(version)), { force: true });
      rmSync(join(this.dir, forestFile(version)), { force: true });
    }
  }
}
