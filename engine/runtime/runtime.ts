import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { AdapterHost, FoundModel } from './formats';
import type { TaskName } from './manifest';
import { LanedModel, LanePool, type LaneReport } from './lanes';
import type { ImageModel } from './model';
import { chooseProvider, type DeviceRequest, type ProviderChoice } from './provider';
import { DeviceQueue } from './queue';
import { modelDirs, ModelRegistry } from './registry';
import { SessionManager } from './sessions';
import type { UnifiedArModel } from './unified-ar';

export interface ModelRuntimeOptions {
  /** `auto` (default): CUDA when available, else CPU. */
  device?: DeviceRequest;
  /** Threads inside one session.run; one is fastest for this tiny model on a shared 2-core machine. */
  intraOpThreads?: number;
  interOpThreads?: number;
  /**
   * Most rows (a guided image is two) that concurrent calls of different runs decode in one batch:
   * one session.run per step for all of them. 1 turns batching off. Default 64.
   */
  batchRows?: number;
  /**
   * Threads that run model calls, the main thread included (see lanes.ts): on CPU, one per core the
   * intra-op threads leave (default); on CUDA 1, where batching is the lever. A model is copied into a
   * worker lane only while its copies fit the memory budget.
   */
  lanes?: number;
  /** Loaded models above this estimate are unloaded least recently used first. */
  memoryBudgetBytes?: number;
  /** Folders holding models besides the shipped ones (`--models`, PICFLOW_MODELS): each sub-folder is one model. */
  modelDirs?: string[];
}

/** One model in `GET /api/models` and `picflow models`. */
export interface ModelReport {
  name: string;
  dir: string;
  format: string;
  description: string;
  tasks: TaskName[];
  /** The precision its graphs are loaded in, for formats that offer several. */
  dtype: string | null;
  sizeBytes: number;
  loaded: boolean;
  /** The words its tokenizer takes (a word-level model such as tiny-shapes), else null: any text. */
  vocabulary: string[] | null;
}

/** What `GET /api/models` reports. */
export interface ModelsReport {
  device: ProviderChoice;
  queueLength: number;
  /** Most threads that run model calls (PICFLOW_LANES), and those started so far: the main thread, then the worker lanes. */
  maxLanes: number;
  lanes: LaneReport[];
  memory: { budgetBytes: number; usedBytes: number };
  models: ModelReport[];
  problems: { name: string; dir: string; error: string }[];
}

/**
 * A model runtime: finds models (each format through its adapter), hands out one adapter per model,
 * and owns the session manager and the device queue that every node and run shares. Hosts (CLI,
 * server, worker) build one and hand it to the engine's services.
 */
export class ModelRuntime {
  readonly sessions: SessionManager;

  /** Where its sessions run (`cpu` or `cuda`): the provider chosen at start. */
  get device(): ProviderChoice['provider'] {
    return this.sessions.provider.provider;
  }
  readonly queue: DeviceQueue;

  /** Most lanes (threads) that model calls may use, the main thread included. */
  get maxLanes(): number {
    return this.pool.max;
  }
  private registry: ModelRegistry | undefined;
  /** Adapters by model name, shared while being created so concurrent first calls make one. */
  private readonly models = new Map<string, Promise<ImageModel>>();
  private readonly budget: number;
  private readonly host: AdapterHost;
  /** The main thread and the worker lanes beside it. */
  private readonly pool: LanePool;

  constructor(private readonly options: ModelRuntimeOptions = {}) {
    const provider = chooseProvider(options.device ?? 'auto');
    this.budget = options.memoryBudgetBytes ?? 2 * 1024 ** 3;
    this.sessions = new SessionManager({
      provider,
      intraOpThreads: options.intraOpThreads ?? 1,
      interOpThreads: options.interOpThreads ?? 1,
      memoryBudgetBytes: this.budget,
    });
    this.queue = new DeviceQueue(provider.provider);
    this.host = { sessions: this.sessions, queue: this.queue, batchRows: options.batchRows ?? 64 };
    const intraOpThreads = options.intraOpThreads ?? 1;
    const lanes = options.lanes ?? (provider.provider === 'cpu' ? Math.max(1, Math.floor(availableParallelism() / intraOpThreads)) : 1);
    // each worker lane's runtime gets its share of the budget; the main thread keeps the whole (it must load any model)
    const laneOptions: ModelRuntimeOptions = { ...options, device: provider.provider, lanes: 1, memoryBudgetBytes: Math.floor(this.budget / lanes) };
    this.pool = new LanePool(lanes, { options: laneOptions });
  }

  /** Reads the model folders (their small files; no graph is opened). */
  private rescan(): ModelRegistry {
    this.registry = ModelRegistry.scan(modelDirs(this.options.modelDirs));
    return this.registry;
  }

  /**
   * What the folder of model `name` holds and can do, without loading it; throws naming the known models or the broken file.
   * A name that is unknown or broken is looked up again in the folders: a long-running server sees a model copied in or fixed since.
   */
  find(name: string): FoundModel {
    try {
      if (this.registry) return this.registry.get(name);
    } catch {
      // read again below
    }
    return this.rescan().get(name);
  }

  /** The model named `name`, one shared adapter per model. */
  async model(name: string): Promise<ImageModel> {
    let model = this.models.get(name);
    if (!model) {
      const found = this.find(name);
      const created = found.create(this.host).then((adapter) => {
        // the session manager counts a loaded model at twice its graphs; twice the folder is at least that
        const copies = Math.floor(this.budget / (2 * folderBytes(found.dir)));
        return new LanedModel(adapter, this.pool, Math.max(1, Math.min(this.pool.max, copies)));
      });
      // a failed import may be retried
      created.catch(() => this.models.get(name) === created && this.models.delete(name));
      this.models.set(name, (model = created));
    }
    return model;
  }

  /** A picflow bundle's adapter with its code-level methods (image codes, encode/decode), for tests and tools. */
  async unifiedAr(name: string): Promise<UnifiedArModel> {
    const [laned, { UnifiedArModel: Adapter }] = await Promise.all([this.model(name), import('./unified-ar')]);
    const model = laned instanceof LanedModel ? laned.local : laned;
    if (!(model instanceof Adapter)) throw new Error(`model '${name}' is not a picflow bundle`);
    return model;
  }

  /** A deep check of one model folder: every missing or mismatched file (empty when sound). */
  async inspect(name: string): Promise<string[]> {
    let found: FoundModel;
    try {
      found = this.find(name);
    } catch (err) {
      return [(err as Error).message];
    }
    return found.inspect(this.host);
  }

  /** Reads the model folders again (after a download); loaded models are unloaded, worker lanes ended. */
  async refresh(): Promise<void> {
    await Promise.all([this.sessions.unloadAll(), this.pool.close()]);
    this.models.clear();
    this.registry = undefined;
  }

  /** The models and problems as the folders are now (a listing reads them again), the device, queue and memory. */
  async describe(): Promise<ModelsReport> {
    const registry = this.rescan();
    return {
      device: this.sessions.provider,
      queueLength: this.queue.length,
      maxLanes: this.pool.max,
      lanes: this.pool.report(),
      memory: { budgetBytes: this.budget, usedBytes: this.sessions.bytesInUse },
      models: registry.list().map((m) => ({
        name: m.name,
        dir: m.dir,
        format: m.format,
        description: m.description,
        tasks: [...m.tasks],
        dtype: m.dtype ?? null,
        sizeBytes: folderBytes(m.dir),
        loaded: this.sessions.loaded(m.name),
        vocabulary: m.vocabulary ? [...m.vocabulary.words] : null,
      })),
      problems: registry.problems().map((p) => ({ name: p.name, dir: p.dir, error: p.error.message })),
    };
  }

  /** Releases every session and ends the worker lanes (tests, shutdown). */
  async close(): Promise<void> {
    await Promise.all([this.sessions.unloadAll(), this.pool.close()]);
  }
}

/** Bytes of the files under a folder (training scripts and all: what the folder costs on disk). */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** Host-side options from the environment: PICFLOW_DEVICE, PICFLOW_THREADS, PICFLOW_LANES, PICFLOW_MODEL_MEMORY_MB, PICFLOW_BATCH_ROWS. */
export function runtimeOptionsFromEnv(env = process.env): ModelRuntimeOptions {
  const device = env.PICFLOW_DEVICE;
  if (device !== undefined && !['auto', 'cpu', 'cuda'].includes(device)) {
    throw new Error(`PICFLOW_DEVICE must be auto, cpu or cuda, not '${device}'`);
  }
  const threads = env.PICFLOW_THREADS ? Number(env.PICFLOW_THREADS) : undefined;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= availableParallelism())) {
    throw new Error(`PICFLOW_THREADS must be an integer from 1 to ${availableParallelism()}`);
  }
  const mb = env.PICFLOW_MODEL_MEMORY_MB ? Number(env.PICFLOW_MODEL_MEMORY_MB) : undefined;
  const batchRows = env.PICFLOW_BATCH_ROWS ? Number(env.PICFLOW_BATCH_ROWS) : undefined;
  if (batchRows !== undefined && !(Number.isInteger(batchRows) && batchRows >= 1)) {
    throw new Error(`PICFLOW_BATCH_ROWS must be an integer of at least 1 (1: no batching), not '${env.PICFLOW_BATCH_ROWS}'`);
  }
  const lanes = env.PICFLOW_LANES ? Number(env.PICFLOW_LANES) : undefined;
  if (lanes !== undefined && !(Number.isInteger(lanes) && lanes >= 1 && lanes <= 64)) {
    throw new Error(`PICFLOW_LANES must be an integer from 1 to 64 (1: model calls on the main thread only), not '${env.PICFLOW_LANES}'`);
  }
  return {
    device: device as DeviceRequest | undefined,
    intraOpThreads: threads,
    lanes,
    batchRows,
    memoryBudgetBytes: mb !== undefined && mb > 0 ? mb * 1024 ** 2 : undefined,
  };
}
