import { isImage } from './image';
import { DEFAULT_WORKFLOW_LIMITS } from './limits';
import type { PortValues } from './node';

/**
 * One key text's place in the cache (see plan.ts): the short key standing for the text in other nodes'
 * texts, and the outputs a run cached there. A plan holds its nodes' entries, so a run reads and fills
 * them without looking a key up again.
 */
export class CacheEntry {
  outputs: PortValues | undefined = undefined;
  /** The estimate counted for `outputs`; -1 once the cache has dropped the entry, which then takes no outputs. */
  bytes = 0;

  constructor(
    private readonly cache: OutputCache,
    /** Made once, never reused: see `OutputCache.entryFor`. */
    readonly key: string,
  ) {}

  /** Caches a node's outputs here (nothing, when the cache dropped the entry meanwhile or the outputs alone are over its bytes). */
  fill(outputs: PortValues): void {
    this.cache.fill(this, outputs);
  }
}

/**
 * Node outputs by key text, least recently used dropped first. Bounded by entry count and by an
 * estimate of the bytes held (images dominate), so a long-lived server cannot grow without limit.
 * The bytes are the real bound; the count is there for the per-entry cost the estimate misses, and by
 * default holds two of the largest workflows the default limits allow (see `entriesForTwoWorkflows`): a count below
 * one workflow's size made its re-run find only the last few thousand nodes cached.
 */
export class OutputCache {
  private readonly entries = new Map<string, CacheEntry>();
  private bytes = 0;
  private keysMade = 0;

  constructor(
    readonly maxEntries = entriesForTwoWorkflows(DEFAULT_WORKFLOW_LIMITS.maxNodes),
    readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * A key text's entry, made empty on first sight, with the short key that stands for the text. A node's key
   * text holds its sources' keys, so with short keys a text stays short however deep the node lies: texts
   * that held their sources' texts grew along a chain, and building, hashing and storing them was most of a
   * large run's planning and cache work. A key is never made twice, so a text forgotten (dropped as least
   * recently used) and seen again gets a new one: what was cached under the old key is missed, never
   * mistaken for something else.
   */
  entryFor(text: string): CacheEntry {
    let entry = this.entries.get(text);
    if (entry === undefined) entry = new CacheEntry(this, (this.keysMade++).toString(36));
    else this.entries.delete(text);
    this.entries.set(text, entry);
    if (this.entries.size > this.maxEntries) this.dropOldest();
    return entry;
  }

  /** See CacheEntry.fill. */
  fill(entry: CacheEntry, outputs: PortValues): void {
    if (entry.bytes < 0) return;
    const bytes = estimateBytes(outputs);
    if (bytes > this.maxBytes) return;
    this.bytes += bytes - entry.bytes;
    entry.bytes = bytes;
    entry.outputs = outputs;
    if (this.bytes > this.maxBytes) this.dropOldest();
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.bytes = -1;
    this.entries.clear();
    this.bytes = 0;
  }

  /**
   * Drops the least recently used entries until the bytes fit and the count is 1/16 under its bound: each pass
   * starts a Map iterator, which walks past the slots of entries dropped before, so dropping one at a time made
   * a run of more nodes than maxEntries quadratic.
   */
  private dropOldest(): void {
    const keep = Number.isFinite(this.maxEntries) ? this.maxEntries - Math.floor(this.maxEntries / 16) : Infinity;
    for (const [text, entry] of this.entries) {
      if (this.entries.size <= keep && this.bytes <= this.maxBytes) return;
      this.entries.delete(text);
      this.bytes -= entry.bytes;
      entry.bytes = -1;
      entry.outputs = undefined;
    }
  }
}

/**
 * Room for two workflows of `maxNodes` nodes each, at the entries a planned node may take: its own, and its
 * head's when no other node shares its type and params (see plan.ts).
 */
export function entriesForTwoWorkflows(maxNodes: number): number {
  return 2 * (2 * maxNodes);
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
