// Secrets in the configuration (webhook secrets, SMTP passwords, API keys): given inline as `key`, or by reference as
// `key_env` (an environment variable) or `key_file` (a file whose content, trimmed, is the secret). Never logged.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { VigilError } from '../core/errors.js';

/** The three ways to give the secret `name`: `name`, `name_env`, `name_file`. */
export function secretShape<N extends string>(name: N) {
  return {
    [name]: z.string().min(1).optional(),
    [`${name}_env`]: z.string().min(1).optional(),
    [`${name}_file`]: z.string().min(1).optional(),
  } as { [K in N | `${N}_env` | `${N}_file`]: z.ZodOptional<z.ZodString> };
}

/**
 * The secret `name` of a configuration block, or undefined when none of its forms is given. A reference that
 * leads nowhere (unset variable, unreadable file) is a configuration error naming the key, never the value.
 */
export function resolveSecret(block: Record<string, unknown>, name: string, where: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const inline = block[name];
  if (typeof inline === 'string' && inline.length > 0) return inline;
  const variable = block[`${name}_env`];
  if (typeof variable === 'string' && variable.length > 0) {
    const value = env[variable];
    if (value === undefined || value === '') throw new VigilError('bad_config', `${where}.${name}_env names ${variable}, which is not set`);
    return value;
  }
  const file = block[`${name}_file`];
  if (typeof file === 'string' && file.length > 0) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new VigilError('bad_config', `${where}.${name}_file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const value = text.trim();
    if (value.length === 0) throw new VigilError('bad_config', `${where}.${name}_file: ${file} is empty`);
    return value;
  }
  return undefined;
}

/** Replaces every occurrence of the given secrets in a text (an error message, say) before it is shown. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}
