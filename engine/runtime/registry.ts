import { existsSync, readdirSync } from 'node:fs';
import { basename, delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBundle, type TokenizerFile } from './manifest';
import type { BundleRef } from './sessions';

/** The shipped bundles' folder (`models/` at the repository root). */
export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../../models', import.meta.url));

export interface FoundBundle extends BundleRef {
  tokenizer: TokenizerFile;
}

export interface BrokenBundle {
  name: string;
  dir: string;
  error: Error;
}

/** Folders to search: the shipped models, those given in config, then `PICFLOW_MODELS` (path-list). */
export function modelDirs(configured: readonly string[] = [], env = process.env.PICFLOW_MODELS): string[] {
  const fromEnv = (env ?? '').split(delimiter).filter(Boolean);
  return [...new Set([SHIPPED_MODELS_DIR, ...configured, ...fromEnv].map((d) => resolve(d)))];
}

/** A folder is a bundle when it holds manifest.json; otherwise its subfolders that do are. */
function bundleFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (existsSync(join(dir, 'manifest.json'))) return [dir];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'manifest.json')))
    .map((e) => join(dir, e.name));
}

/**
 * The bundles found in the model folders, by folder name (what a node's `model` param names).
 * A broken bundle is kept with its error, so asking for it says what is wrong rather than "unknown".
 */
export class ModelRegistry {
  private constructor(
    private readonly found: Map<string, FoundBundle>,
    private readonly broken: Map<string, BrokenBundle>,
  ) {}

  static async scan(dirs: readonly string[]): Promise<ModelRegistry> {
    const found = new Map<string, FoundBundle>();
    const broken = new Map<string, BrokenBundle>();
    for (const dir of dirs.flatMap(bundleFolders)) {
      const name = basename(dir);
      if (found.has(name) || broken.has(name)) continue; // earlier folders win
      try {
        const { manifest, tokenizer } = await readBundle(dir);
        found.set(name, { name, dir, manifest, tokenizer });
      } catch (err) {
        broken.set(name, { name, dir, error: err as Error });
      }
    }
    return new ModelRegistry(found, broken);
  }

  get(name: string): FoundBundle {
    const bundle = this.found.get(name);
    if (bundle) return bundle;
    const broken = this.broken.get(name);
    if (broken) throw broken.error;
    const known = [...this.found.keys()].join(', ') || 'none';
    throw new Error(`unknown model '${name}' (known models: ${known})`);
  }

  list(): FoundBundle[] {
    return [...this.found.values()];
  }

  problems(): BrokenBundle[] {
    return [...this.broken.values()];
  }
}
