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

  constructor(
    readonly maxEntries = 2 * DEFAULT_WORKFLOW_LIMITS.maxNodes,
    readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
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
    // Over the count, 1/16 of it goes at once: each pass starts a Map iterator, which walks past the slots of
    // entries evicted before, so evicting one per `set` made a run of more nodes than maxEntries quadratic.
    const keep = Number.isFinite(this.maxEntries) ? this.maxEntries - Math.floor(this.maxEntries / 16) : Infinity;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= keep && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
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
