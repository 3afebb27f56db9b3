import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelFormat } from './formats';
import { BundleError } from './manifest';

/** One entry of a models folder: a model folder, or (with `error`) a folder that was meant to be one and is not. */
export interface FolderEntry {
  dir: string;
  error?: Error;
}

export function formatOf(dir: string, formats: readonly ModelFormat[]): ModelFormat | undefined {
  return formats.find((f) => existsSync(join(dir, f.marker)));
}

/** A sub-folder no format claims: says what a model folder holds, and where a model one level down is. */
function notAModel(dir: string, formats: readonly ModelFormat[]): FolderEntry {
  const entries = readdirSync(dir);
  const markers = formats.map((f) => `${f.marker} (${f.kind})`).join(' or ');
  const nested = entries.filter((name) => !name.startsWith('.') && formatOf(join(dir, name), formats));
  const what = entries.length === 0 ? `the folder is empty; a model folder has ${markers}` : `it has no ${markers} at its top`;
  const hint = nested.length > 0 ? `; its sub-folder ${nested.join(', ')} is a model: move it up one level` : '';
  return { dir, error: new BundleError(dir, `not a model: ${what}${hint}`) };
}

/** One entry of a models folder, or nothing for a plain file. */
function readEntry(path: string, formats: readonly ModelFormat[]): FolderEntry | undefined {
  try {
    const entry = statSync(path, { throwIfNoEntry: false });
    if (!entry) return { dir: path, error: new BundleError(path, `a link to ${readlinkSync(path)}, which does not exist`) };
    if (!entry.isDirectory()) return undefined;
    return formatOf(path, formats) ? { dir: path } : notAModel(path, formats);
  } catch (err) {
    return { dir: path, error: new BundleError(path, `cannot read it: ${(err as Error).message}`) };
  }
}

/**
 * The models in a models folder: the folder itself when a format claims it, else each sub-folder
 * (symlinks followed) that one claims. Hidden entries (.git, .cache) and plain files are skipped;
 * any other sub-folder, a dangling link, or a `--models` path that is not a folder is a problem,
 * so a model that is not found says why instead of being left out without a word.
 */
export function readModelsFolder(dir: string, formats: readonly ModelFormat[]): FolderEntry[] {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) return [];
  if (!stat.isDirectory()) return [{ dir, error: new Error(`models folder ${dir} is a file, not a folder`) }];
  if (formatOf(dir, formats)) return [{ dir }];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => (name.startsWith('.') ? [] : (readEntry(join(dir, name), formats) ?? [])));
}
