import { existsSync, readdirSync } from 'node:fs';
import { basename, resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FoundModel, ModelFormat } from './formats';
import { hfFormat } from './hf-format';
import { unifiedArFormat } from './unified-ar-format';

/** The shipped bundles' folder (`models/` at the repository root). */
export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../../models', import.meta.url));

/** Model folder formats, by the file that marks them; the first that matches a folder reads it. */
export const MODEL_FORMATS: readonly ModelFormat[] = [unifiedArFormat, hfFormat];

export interface BrokenModel {
  name: string;
  dir: string;
  error: Error;
}

/** Folders to search: the shipped models, then those the host configured (`--models`, PICFLOW_MODELS). */
export function modelDirs(configured: readonly string[] = []): string[] {
  return [...new Set([SHIPPED_MODELS_DIR, ...configured].map((d) => resolve(d)))];
}

function formatOf(dir: string): ModelFormat | undefined {
  return MODEL_FORMATS.find((f) => existsSync(join(dir, f.marker)));
}

/** A folder is a model when a format claims it; otherwise each subfolder that a format claims is one. */
function modelFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (formatOf(dir)) return [dir];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && formatOf(join(dir, e.name)))
    .map((e) => join(dir, e.name));
}

/**
 * The models found in the model folders, by folder name (what a node's `model` param names). Read
 * synchronously (small JSON files) so that validation can ask what a model can do. A broken folder
 * is kept with its error, so asking for it says what is wrong rather than "unknown".
 */
export class ModelRegistry {
  private constructor(
    private readonly found: Map<string, FoundModel>,
    private readonly broken: Map<string, BrokenModel>,
  ) {}

  static scan(dirs: readonly string[]): ModelRegistry {
    const found = new Map<string, FoundModel>();
    const broken = new Map<string, BrokenModel>();
    for (const dir of dirs.flatMap(modelFolders)) {
      const name = basename(dir);
      if (found.has(name) || broken.has(name)) continue; // earlier folders win
      try {
        found.set(name, formatOf(dir)!.read(dir, name));
      } catch (err) {
        broken.set(name, { name, dir, error: err as Error });
      }
    }
    return new ModelRegistry(found, broken);
  }

  get(name: string): FoundModel {
    const model = this.found.get(name);
    if (model) return model;
    const broken = this.broken.get(name);
    if (broken) throw broken.error;
    const known = [...this.found.keys()].join(', ') || 'none';
    throw new Error(`unknown model '${name}' (known models: ${known})`);
  }

  list(): FoundModel[] {
    return [...this.found.values()];
  }

  problems(): BrokenModel[] {
    return [...this.broken.values()];
  }
}
