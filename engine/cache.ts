import { isImage } from './image';
import { DEFAULT_WORKFLOW_LIMITS } from './limits';
import type { PortValues } from './node';

/**
 * Node outputs by cache key, least recently used evicted first. Bounded by entry count and by an
 * estimate of the bytes held (images dominate), so a long-lived server cannot grow without limit.
 * The bytes are the real bound; the count is there for the per-entry cost the estimate misses, and by
 * default holds two of the largest workflows the default limits allow: a count below one workflow's
 * size made its re-run find only the last few thousand nodes cached.
 */
export class OutputCache {
  private readonly entries = new Map<string, { outputs: PortValues; bytes: number }>();
  private bytes = 0;
  /** The short keys of key texts (see `keyFor`), least recently used first. */
  private readonly keys = new Map<string, string>();
  private keysMade = 0;

  constructor(
    readonly maxEntries = 2 * DEFAULT_WORKFLOW_LIMITS.maxNodes,
    readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The short key standing for a key text (see plan.ts), made on first sight. A node's key text holds its
   * sources' keys, so with short keys a text stays short however deep the node lies: texts that held their
   * sources' texts grew along a chain, and building, hashing and storing them was most of a large run's
   * planning and cache work. A key is never made twice, so a text forgotten (past `maxEntries`) and seen
   * again gets a new one: what was cached under the old key is missed, never mistaken for something else.
   */
  keyFor(text: string): string {
    let key = this.keys.get(text);
    if (key === undefined) key = (this.keysMade++).toString(36);
    else this.keys.delete(text);
    this.keys.set(text, key);
    if (this.keys.size > this.maxEntries) {
      const keep = this.retained();
      dropOldest(this.keys, () => this.keys.size > keep);
    }
    return key;
  }

  get(key: string): PortValues | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.outputs;
  }

  set(key: string, outputs: PortValues): void {
    const existing = this.entries.get(key);
    if (existing) {
      this.bytes -= existing.bytes;
      this.entries.delete(key);
    }
    const bytes = estimateBytes(outputs) + key.length * 2;
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { outputs, bytes });
    this.bytes += bytes;
    if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return;
    const keep = this.retained();
    dropOldest(
      this.entries,
      () => this.entries.size > keep || this.bytes > this.maxBytes,
      (entry) => (this.bytes -= entry.bytes),
    );
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.keys.clear();
  }

  /**
   * How many entries a table over its count keeps: 1/16 of the count goes at once, since each pass starts a
   * Map iterator, which walks past the slots of entries evicted before (evicting one at a time made a run of
   * more nodes than maxEntries quadratic).
   */
  private retained(): number {
    return Number.isFinite(this.maxEntries) ? this.maxEntries - Math.floor(this.maxEntries / 16) : Infinity;
  }
}

/** Deletes a Map's oldest entries (first in its order) while `over()` says it holds too much; `dropped` hears each. */
function dropOldest<V>(map: Map<string, V>, over: () => boolean, dropped?: (value: V) => void): void {
  for (const [key, value] of map) {
    if (!over()) return;
    map.delete(key);
    dropped?.(value);
  }
}

function estimateBytes(outputs: PortValues): number {
  let bytes = 64;
  // for-in over own keys: Object.values made an array per entry.
  for (const key in outputs) {
    if (!Object.hasOwn(outputs, key)) continue;
    const value = outputs[key];
    if (!Array.isArray(value)) bytes += itemBytes(value);
    else for (const item of value) bytes += itemBytes(item);
  }
  return bytes;
}

function itemBytes(item: unknown): number {
  if (isImage(item)) return item.data.length;
  if (typeof item === 'string') return item.length * 2;
  return 16;
}
