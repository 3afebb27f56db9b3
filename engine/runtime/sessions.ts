import type * as ort from 'onnxruntime-node';
import type { ProviderChoice } from './provider';

export interface SessionManagerOptions {
  provider: ProviderChoice;
  intraOpThreads: number;
  interOpThreads: number;
  /** Estimated bytes of loaded models above which the least recently used idle model is unloaded. */
  memoryBudgetBytes: number;
}

/** `step` of `total` graphs loaded. */
export type LoadProgress = (step: number, total: number) => void;

/** How one model's loaded state (its ONNX sessions, however an adapter holds them) is made and freed. */
export interface Loader<S> {
  /** The model's name: one loaded instance per name. */
  name: string;
  load(onLoad?: LoadProgress): Promise<S>;
  release(loaded: S): Promise<void>;
  /** Memory estimate of the loaded model. */
  bytes(): Promise<number>;
}

interface Entry {
  loaded: Promise<unknown>;
  release: (loaded: unknown) => Promise<void>;
  bytes: number;
  lastUsed: number;
  active: number;
}

/**
 * Loads each model once, on first use, and shares it with every caller; loads in flight are shared
 * too, so concurrent first calls wait for one load. Idle models are unloaded least recently used
 * first when the memory budget is exceeded. Adapters of every format load through here.
 */
export class SessionManager {
  /** Sessions created per `model/graph`: a test asserts each graph was loaded exactly once. */
  readonly created = new Map<string, number>();
  private readonly entries = new Map<string, Entry>();
  private clock = 0;

  constructor(readonly options: SessionManagerOptions) {}

  get provider(): ProviderChoice {
    return this.options.provider;
  }

  loaded(name: string): boolean {
    return this.entries.has(name);
  }

  /** Estimated bytes held by loaded models. */
  get bytesInUse(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.bytes;
    return total;
  }

  /** Adapters call this once per ONNX session they create. */
  countCreated(model: string, graph: string): void {
    const key = `${model}/${graph}`;
    this.created.set(key, (this.created.get(key) ?? 0) + 1);
  }

  /** The ONNX session options every adapter uses: the chosen provider and thread counts. */
  sessionOptions(): ort.InferenceSession.SessionOptions {
    const { provider, intraOpThreads, interOpThreads } = this.options;
    return {
      executionProviders: [provider.provider],
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: interOpThreads,
      graphOptimizationLevel: 'all',
    };
  }

  /** Runs `fn` with the model loaded (loading it first if needed); it cannot be unloaded meanwhile. */
  async use<S, T>(loader: Loader<S>, fn: (loaded: S) => Promise<T>, onLoad?: LoadProgress): Promise<T> {
    let entry = this.entries.get(loader.name);
    if (!entry) {
      const created: Entry = {
        loaded: loader.load(onLoad),
        release: (s) => loader.release(s as S),
        bytes: 0,
        lastUsed: 0,
        active: 0,
      };
      this.entries.set(loader.name, created);
      // a failed load may be retried
      created.loaded.catch(() => this.entries.get(loader.name) === created && this.entries.delete(loader.name));
      entry = created;
    }
    entry.active++;
    entry.lastUsed = ++this.clock;
    try {
      const loaded = (await entry.loaded) as S;
      entry.bytes ||= await loader.bytes();
      await this.enforceBudget(loader.name);
      return await fn(loaded);
    } finally {
      entry.active--;
    }
  }

  async unload(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    await entry.release(await entry.loaded);
  }

  async unloadAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((name) => this.unload(name)));
  }

  private async enforceBudget(keep: string): Promise<void> {
    while (this.bytesInUse > this.options.memoryBudgetBytes) {
      const idle = [...this.entries].filter(([name, e]) => name !== keep && e.active === 0);
      if (idle.length === 0) return;
      idle.sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      await this.unload(idle[0][0]);
    }
  }
}
