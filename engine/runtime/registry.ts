import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FoundModel, ModelFormat } from './formats';
import { hfFormat } from './hf-format';
import { formatOf, readModelsFolder, type FolderEntry } from './model-folders';
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

/**
 * The models found in the model folders, by folder name (what a node's `model` param names). Read
 * synchronously (small JSON files) so that validation can ask what a model can do. A broken folder
 * is kept with its error, so asking for it says what is wrong rather than "unknown"; `problems()`
 * also names the folders that hold no model and those a same-named model hides.
 */
export class ModelRegistry {
  private readonly found = new Map<string, FoundModel>();
  /** Broken model folders by name, so asking for one says what is wrong. */
  private readonly broken = new Map<string, BrokenModel>();
  /** Every folder that is not a usable model: the broken ones, and those that hold no model or that a same-named model hides. */
  private readonly problemList: BrokenModel[] = [];

  private constructor(private readonly dirs: readonly string[]) {}

  static scan(dirs: readonly string[]): ModelRegistry {
    const registry = new ModelRegistry(dirs);
    for (const entry of dirs.flatMap((d) => readModelsFolder(d, MODEL_FORMATS))) registry.add(entry);
    return registry;
  }

  private add({ dir, error }: FolderEntry): void {
    const name = basename(dir);
    const first = this.found.get(name)?.dir ?? this.broken.get(name)?.dir;
    if (first !== undefined) {
      // earlier folders win; the hidden one is named, else a user's 'tiny-shapes' would silently be the shipped one
      this.problemList.push({ name, dir, error: error ?? new Error(`${dir} is not used: the model '${name}' in ${first} has the same name and comes first; rename this folder`) });
      return;
    }
    if (error) return this.addBroken({ name, dir, error });
    try {
      this.found.set(name, formatOf(dir, MODEL_FORMATS)!.read(dir, name));
    } catch (err) {
      this.addBroken({ name, dir, error: err as Error });
    }
  }

  private addBroken(problem: BrokenModel): void {
    this.broken.set(problem.name, problem);
    this.problemList.push(problem);
  }

  get(name: string): FoundModel {
    const model = this.found.get(name);
    if (model) return model;
    const broken = this.broken.get(name);
    if (broken) throw broken.error;
    const known = [...this.found.keys()].join(', ') || 'none';
    // where it looked, so a mistyped --models folder shows
    const searched = this.dirs.map((d) => (existsSync(d) ? d : `${d} (missing)`)).join(', ');
    throw new Error(`unknown model '${name}' (known models: ${known}; looked in ${searched})`);
  }

  list(): FoundModel[] {
    return [...this.found.values()];
  }

  problems(): BrokenModel[] {
    return this.problemList;
  }
}
