// Reads rule files from folders: every `.yml`/`.yaml` below them (dot-folders skipped), in a stable order.
// Unreadable files and YAML errors become problems with the file and line; nothing stops at the first.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { readRuleFile, type RuleModel, type RuleProblem } from './model.js';

const MAX_FILES = 20_000;
const MAX_DEPTH = 16;

/** Rule files below `dir`, sorted; a missing folder gives none. */
export function listRuleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(d, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path, depth + 1);
      else if (st.isFile() && (extname(name) === '.yml' || extname(name) === '.yaml')) out.push(path);
    }
  };
  try {
    if (statSync(dir).isFile()) return [dir];
  } catch {
    return out;
  }
  walk(dir, 0);
  return out;
}

export interface LoadedFiles {
  files: string[];
  models: RuleModel[];
  problems: RuleProblem[];
  /** File → its text's models, for reloading only what changed. */
  byFile: Map<string, { text: string; models: RuleModel[]; problems: RuleProblem[] }>;
}

/** Reads every rule file under the folders (or single files) given. `previous` lets unchanged files skip parsing. */
export function loadRuleFiles(paths: readonly string[], previous?: LoadedFiles): LoadedFiles {
  const files = [...new Set(paths.flatMap((p) => listRuleFiles(p)))];
  const models: RuleModel[] = [];
  const problems: RuleProblem[] = [];
  const byFile: LoadedFiles['byFile'] = new Map();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ file, line: 1, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const cached = previous?.byFile.get(file);
    const read = cached && cached.text === text ? cached : { text, ...readRuleFile(text, file) };
    byFile.set(file, read);
    models.push(...read.models);
    problems.push(...read.problems);
  }
  return { files, models, problems, byFile };
}
