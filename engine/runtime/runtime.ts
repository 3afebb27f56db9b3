import { availableParallelism } from 'node:os';
import type { TaskName } from './manifest';
import { chooseProvider, type DeviceRequest, type ProviderChoice } from './provider';
import { DeviceQueue } from './queue';
import { modelDirs, ModelRegistry } from './registry';
import { SessionManager } from './sessions';
import type { ImageModel } from './unified-ar';

export interface ModelRuntimeOptions {
  /** `auto` (default): CUDA when available, else CPU. */
  device?: DeviceRequest;
  /** Threads inside one session.run; one is fastest for this tiny model on a shared 2-core machine. */
  intraOpThreads?: number;
  interOpThreads?: number;
  /** Loaded bundles above this estimate are unloaded least recently used first. */
  memoryBudgetBytes?: number;
  /** Extra folders holding bundles (besides the shipped models and PICFLOW_MODELS). */
  modelDirs?: string[];
}

/** What `GET /api/models` reports. */
export interface ModelsReport {
  device: ProviderChoice;
  queueLength: number;
  memory: { budgetBytes: number; usedBytes: number };
  models: { name: string; dir: string; description: string; tasks: TaskName[]; loaded: boolean }[];
  problems: { name: string; dir: string; error: string }[];
}

/**
 * The process-wide model runtime: finds bundles, hands out one adapter per model, and owns the
 * session manager and the device queue that every node and run shares.
 */
export class ModelRuntime {
  readonly sessions: SessionManager;
  readonly queue: DeviceQueue;
  private registry: Promise<ModelRegistry> | undefined;
  private readonly models = new Map<string, ImageModel>();
  private readonly budget: number;

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
  }

  private scan(): Promise<ModelRegistry> {
    this.registry ??= ModelRegistry.scan(modelDirs(this.options.modelDirs));
    return this.registry;
  }

  /** The model named `name`; throws naming the known models when there is none. */
  async model(name: string): Promise<ImageModel> {
    let model = this.models.get(name);
    if (!model) {
      const bundle = (await this.scan()).get(name);
      // The adapter (and onnxruntime with it) loads with the first model, not with every host.
      const { UnifiedArModel } = await import('./unified-ar');
      model = this.models.get(name) ?? new UnifiedArModel(bundle, this.sessions, this.queue);
      this.models.set(name, model);
    }
    return model;
  }

  async describe(): Promise<ModelsReport> {
    const registry = await this.scan();
    return {
      device: this.sessions.provider,
      queueLength: this.queue.length,
      memory: { budgetBytes: this.budget, usedBytes: this.sessions.bytesInUse },
      models: registry.list().map((b) => ({
        name: b.name,
        dir: b.dir,
        description: b.manifest.description,
        tasks: (Object.keys(b.manifest.tasks) as TaskName[]).filter((t) => b.manifest.tasks[t]),
        loaded: this.sessions.loaded(b.name),
      })),
      problems: registry.problems().map((p) => ({ name: p.name, dir: p.dir, error: p.error.message })),
    };
  }

  /** Releases every session (tests, shutdown). */
  close(): Promise<void> {
    return this.sessions.unloadAll();
  }
}

/** Options from the environment: PICFLOW_DEVICE, PICFLOW_THREADS, PICFLOW_MODEL_MEMORY_MB (PICFLOW_MODELS is read by the registry). */
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
  return {
    device: device as DeviceRequest | undefined,
    intraOpThreads: threads,
    memoryBudgetBytes: mb !== undefined && mb > 0 ? mb * 1024 ** 2 : undefined,
  };
}

let shared: ModelRuntime | undefined;

/** The one runtime of this process, so the CLI, the server and every run share sessions. */
export function sharedModelRuntime(): ModelRuntime {
  shared ??= new ModelRuntime(runtimeOptionsFromEnv());
  return shared;
}
