import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { BundleError, type GraphSpec, type UnifiedArManifest } from './manifest';
import type { ProviderChoice } from './provider';

export type GraphName = keyof UnifiedArManifest['graphs'];
export type Sessions = Record<GraphName, ort.InferenceSession>;

/** A bundle as the registry found it: validated manifest, not loaded yet. */
export interface BundleRef {
  name: string;
  dir: string;
  manifest: UnifiedArManifest;
}

export interface SessionManagerOptions {
  provider: ProviderChoice;
  intraOpThreads: number;
  interOpThreads: number;
  /** Estimated bytes of loaded bundles above which the least recently used idle bundle is unloaded. */
  memoryBudgetBytes: number;
}

/** `step` of `total` graphs loaded. */
export type LoadProgress = (step: number, total: number) => void;

interface Entry {
  sessions: Promise<Sessions>;
  bytes: number;
  lastUsed: number;
  active: number;
}

/**
 * Creates each bundle's ONNX sessions once, on first use, and shares them with every caller; loads
 * in flight are shared too, so concurrent first calls wait for one load. Idle bundles are unloaded
 * least recently used first when the memory budget is exceeded.
 */
export class SessionManager {
  /** Sessions created per `model/graph`: a test asserts each graph was loaded exactly once. */
  readonly created = new Map<string, number>();
  private readonly entries = new Map<string, Entry>();
  private clock = 0;

  constructor(private readonly options: SessionManagerOptions) {}

  get provider(): ProviderChoice {
    return this.options.provider;
  }

  loaded(name: string): boolean {
    return this.entries.has(name);
  }

  /** Estimated bytes held by loaded bundles. */
  get bytesInUse(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.bytes;
    return total;
  }

  /** Runs `fn` with the bundle's sessions, loading them first if needed; the bundle cannot be unloaded meanwhile. */
  async use<T>(bundle: BundleRef, fn: (sessions: Sessions) => Promise<T>, onLoad?: LoadProgress): Promise<T> {
    let entry = this.entries.get(bundle.name);
    if (!entry) {
      entry = { sessions: this.load(bundle, onLoad), bytes: 0, lastUsed: 0, active: 0 };
      this.entries.set(bundle.name, entry);
      entry.sessions.catch(() => this.entries.delete(bundle.name)); // a failed load may be retried
    }
    entry.active++;
    entry.lastUsed = ++this.clock;
    try {
      const sessions = await entry.sessions;
      entry.bytes ||= await bundleBytes(bundle);
      await this.enforceBudget(bundle.name);
      return await fn(sessions);
    } finally {
      entry.active--;
    }
  }

  async unload(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    const sessions = await entry.sessions;
    await Promise.all(Object.values(sessions).map((s) => s.release()));
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

  private async load(bundle: BundleRef, onLoad?: LoadProgress): Promise<Sessions> {
    const names = Object.keys(bundle.manifest.graphs) as GraphName[];
    const sessions: Partial<Sessions> = {};
    for (const [i, graph] of names.entries()) {
      sessions[graph] = await this.createSession(bundle, graph, bundle.manifest.graphs[graph]);
      onLoad?.(i + 1, names.length);
    }
    return sessions as Sessions;
  }

  private async createSession(bundle: BundleRef, graph: GraphName, spec: GraphSpec): Promise<ort.InferenceSession> {
    const file = join(bundle.dir, spec.file);
    await stat(file).catch(() => {
      throw new BundleError(bundle.dir, `missing graph file ${spec.file} (${graph})`);
    });
    const { provider, intraOpThreads, interOpThreads } = this.options;
    let session: ort.InferenceSession;
    try {
      // onnxruntime loads with the first session: hosts that never run a model never pay for it.
      const { InferenceSession } = await import('onnxruntime-node');
      session = await InferenceSession.create(file, {
        executionProviders: [provider.provider],
        intraOpNumThreads: intraOpThreads,
        interOpNumThreads: interOpThreads,
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new BundleError(bundle.dir, `cannot load ${spec.file}: ${(err as Error).message}`);
    }
    const key = `${bundle.name}/${graph}`;
    this.created.set(key, (this.created.get(key) ?? 0) + 1);
    try {
      checkNames(bundle.dir, spec, 'input', spec.inputs.map((t) => t.name), session.inputNames);
      checkNames(bundle.dir, spec, 'output', spec.outputs.map((t) => t.name), session.outputNames);
    } catch (err) {
      await session.release();
      throw err;
    }
    return session;
  }
}

function checkNames(dir: string, spec: GraphSpec, kind: string, declared: string[], actual: readonly string[]): void {
  const a = [...declared].sort().join(', ');
  const b = [...actual].sort().join(', ');
  if (a !== b) {
    throw new BundleError(dir, `${spec.file}: the manifest's ${kind} names [${a}] do not match the graph's [${b}]`);
  }
}

/** Memory estimate: the graph files' size, doubled for the runtime's own copies and arenas. */
async function bundleBytes(bundle: BundleRef): Promise<number> {
  const sizes = await Promise.all(Object.values(bundle.manifest.graphs).map((g) => stat(join(bundle.dir, g.file)).then((s) => s.size)));
  return 2 * sizes.reduce((a, b) => a + b, 0);
}
