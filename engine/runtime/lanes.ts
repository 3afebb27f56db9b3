// CPU lanes (issue 16). onnxruntime-node runs each session.run synchronously on the thread that calls it, so
// one thread gives a model one core however many runs wait for it. A lane is a thread with its own runtime:
// sessions, device queue and batching. The main thread is lane 0; the others are worker threads, started one
// at a time when a call finds every lane busy, and kept while the runtime lives. A call goes to the lane with
// the fewest calls in flight, the main thread on a tie, so a lone client never leaves it. Any lane gives the
// bytes the main thread gives for the same seed: same graphs, same provider, same thread count.
import { Worker } from 'node:worker_threads';
import type { FromLane, LaneData, LaneMethod, ToLane } from './lane-protocol';
import type { CallOptions, CallStats, CaptionOptions, GenerateOptions, ImageModel } from './model';
import type { ImageValue } from '../image';
import type { TaskName } from './manifest';

/** Set by cli/build.mjs: the compiled CLI starts its compiled lane worker, the sources start theirs through tsx. */
declare const PICFLOW_COMPILED: boolean | undefined;

function laneEntry(): URL {
  return typeof PICFLOW_COMPILED === 'undefined'
    ? new URL('./lane-boot.mjs', import.meta.url)
    : new URL('../../dist/cli/lane-worker.js', import.meta.url);
}

/** One lane in `GET /api/models`. */
export interface LaneReport {
  thread: 'main' | 'worker';
  state: 'starting' | 'ready';
  /** Calls running or waiting on it now. */
  inFlight: number;
  /** Calls it has taken since the runtime started. */
  calls: number;
}

interface PendingCall {
  resolve(result: { value: unknown; stats: CallStats }): void;
  reject(err: unknown): void;
  onProgress?: (step: number, total: number) => void;
  /** Settled already (cancelled): its late answer is dropped. */
  settled: boolean;
  release(): void;
}

/** JavaScript's own error types: the engine reports them as a crash (a bug), not a refusal, so they keep their type. */
const BUILT_IN_ERRORS = [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];

/** A lane's error as the main thread would have seen it: its message and name, a built-in type kept. */
function laneError({ name, message }: { name: string; message: string }): Error {
  const Type = BUILT_IN_ERRORS.find((type) => type.name === name) ?? Error;
  return Object.assign(new Type(message), { name });
}

/** A worker thread lane: its calls by id, settled by the thread's answers. */
class WorkerLane {
  state: LaneReport['state'] = 'starting';
  inFlight = 0;
  calls = 0;
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;
  private readonly pending = new Map<number, PendingCall>();
  /** Calls sent before the thread listens. */
  private readonly backlog: ToLane[] = [];
  private nextId = 1;
  private stopped: Error | null = null;

  constructor(data: LaneData, private readonly onStop: (lane: WorkerLane) => void) {
    this.worker = new Worker(laneEntry(), { workerData: data });
    this.worker.on('message', (message: FromLane) => this.receive(message));
    this.worker.on('error', (err) => this.stop(err));
    this.worker.on('exit', (code) => this.stop(new Error(`its thread exited (code ${code})`)));
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // held open only while it has calls: an idle lane never keeps a CLI or a test process alive (after the
    // listeners: adding a 'message' listener refs the thread again)
    this.worker.unref();
  }

  call(model: string, method: LaneMethod, args: unknown[], call: CallOptions): Promise<{ value: unknown; stats: CallStats }> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const signal = call.signal;
    return new Promise((resolve, reject) => {
      // a cancelled call leaves at once, as on the main thread; the thread is told so it stops the work
      const onAbort = () => {
        entry.settled = true;
        reject(signal!.reason);
        this.send({ kind: 'cancel', id, reason: String((signal!.reason as Error)?.message ?? signal!.reason) });
      };
      const entry: PendingCall = {
        resolve,
        reject,
        onProgress: call.onProgress,
        settled: false,
        release: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, entry);
      if (this.inFlight++ === 0) this.worker.ref();
      this.calls++;
      this.send({ kind: 'call', id, model, method, args, progress: call.onProgress !== undefined, kvCache: call.kvCache });
    });
  }

  report(): LaneReport {
    return { thread: 'worker', state: this.state, inFlight: this.inFlight, calls: this.calls };
  }

  /** Its calls fail at once; the thread cancels them, releases its sessions and ends (never terminated: see lane-worker.ts). */
  async close(): Promise<void> {
    this.stop(new Error('the model runtime closed'));
    this.worker.ref();
    this.send({ kind: 'close' });
    await this.exited;
  }

  private send(message: ToLane): void {
    if (this.state === 'ready') this.worker.postMessage(message);
    else this.backlog.push(message);
  }

  private receive(message: FromLane): void {
    if (message.kind === 'ready') {
      this.state = 'ready';
      for (const queued of this.backlog.splice(0)) this.worker.postMessage(queued);
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if (message.kind === 'progress') {
      if (!entry.settled) entry.onProgress?.(message.step, message.total);
      return;
    }
    this.finish(message.id, entry);
    if (entry.settled) return;
    if (message.kind === 'done') entry.resolve({ value: message.value, stats: message.stats });
    else entry.reject(laneError(message.error));
  }

  private finish(id: number, entry: PendingCall): void {
    this.pending.delete(id);
    entry.release();
    if (--this.inFlight === 0) this.worker.unref();
  }

  /** The thread failed or ended: its calls fail naming why, and the pool forgets it (a later rush starts another). */
  private stop(reason: Error): void {
    if (this.stopped) return;
    this.stopped = new Error(`a model lane stopped: ${reason.message}`);
    for (const [id, entry] of this.pending) {
      this.finish(id, entry);
      if (!entry.settled) entry.reject(this.stopped);
    }
    this.onStop(this);
  }
}

/** The runtime's lanes: the main thread and up to `max - 1` worker threads. */
export class LanePool {
  private readonly workers: WorkerLane[] = [];
  private readonly here = { inFlight: 0, calls: 0 };
  /** Lanes told to close whose threads run still (a host that exits then would abort inside session.run). */
  private readonly ending = new Set<Promise<void>>();

  constructor(
    readonly max: number,
    /** What each worker's runtime is built with. */
    private readonly data: LaneData,
  ) {}

  /**
   * Where a call of a model that may use `limit` lanes (at most `max`) goes: the least busy lane (null: this
   * thread). When every lane is busy and the model may use more, a worker lane starts and the call waits for it.
   */
  choose(limit: number): WorkerLane | null {
    const usable = this.workers.slice(0, limit - 1);
    let best: WorkerLane | null = null;
    let least = this.here.inFlight;
    for (const lane of usable) {
      if (lane.inFlight < least) [best, least] = [lane, lane.inFlight];
    }
    if (least > 0 && usable.length < limit - 1) {
      best = new WorkerLane(this.data, (stopped) => {
        const at = this.workers.indexOf(stopped);
        if (at >= 0) this.workers.splice(at, 1);
      });
      this.workers.push(best);
    }
    return best;
  }

  /** Runs a call on this thread, counted as this lane's. */
  async onMainThread<T>(call: () => Promise<T>): Promise<T> {
    this.here.inFlight++;
    this.here.calls++;
    try {
      return await call();
    } finally {
      this.here.inFlight--;
    }
  }

  report(): LaneReport[] {
    return [{ thread: 'main', state: 'ready', ...this.here }, ...this.workers.map((lane) => lane.report())];
  }

  /** Ends every worker lane; their calls in flight fail. Resolves once their threads have ended, those an earlier close is ending too. */
  async close(): Promise<void> {
    for (const lane of this.workers.splice(0)) {
      const ended: Promise<void> = lane.close().finally(() => this.ending.delete(ended));
      this.ending.add(ended);
    }
    await Promise.all(this.ending);
  }
}

/**
 * A model whose calls may run on any lane: the main thread's adapter, or the same model loaded in a worker
 * lane's runtime. Nodes see an ImageModel like any other.
 */
export class LanedModel implements ImageModel {
  readonly name: string;
  readonly tasks: readonly TaskName[];
  readonly size: { width: number; height: number };
  lastStats: CallStats = { wallMs: 0, runMs: 0, runs: 0 };

  constructor(
    /** The adapter on the main thread. */
    readonly local: ImageModel,
    private readonly pool: LanePool,
    /** Lanes this model may use (fewer than the pool's when copies would not fit the memory budget). */
    private readonly limit: number,
  ) {
    this.name = local.name;
    this.tasks = local.tasks;
    this.size = local.size;
  }

  generate(prompt: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<ImageValue[]> {
    return this.dispatch('generate', [prompt, options], call, () => this.local.generate(prompt, options, call));
  }

  edit(image: ImageValue, instruction: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<ImageValue[]> {
    return this.dispatch('edit', [image, instruction, options], call, () => this.local.edit(image, instruction, options, call));
  }

  caption(image: ImageValue, options: CaptionOptions = {}, call: CallOptions = {}): Promise<string> {
    return this.dispatch('caption', [image, options], call, () => this.local.caption(image, options, call));
  }

  score(image: ImageValue, text: string, call: CallOptions = {}): Promise<number> {
    return this.dispatch('score', [image, text], call, () => this.local.score(image, text, call));
  }

  scoreBatch(images: readonly ImageValue[], text: string, call: CallOptions = {}): Promise<number[]> {
    return this.dispatch('scoreBatch', [images, text], call, () => this.local.scoreBatch(images, text, call));
  }

  private async dispatch<T>(method: LaneMethod, args: unknown[], call: CallOptions, onMainThread: () => Promise<T>): Promise<T> {
    // a call cancelled already (its run failed meanwhile) starts no lane
    call.signal?.throwIfAborted();
    const lane = this.pool.choose(this.limit);
    if (!lane) {
      try {
        return await this.pool.onMainThread(onMainThread);
      } finally {
        this.lastStats = this.local.lastStats;
      }
    }
    const { value, stats } = await lane.call(this.name, method, args, call);
    this.lastStats = stats;
    return value as T;
  }
}
