/**
 * Where runs wait for a runner: the RunQueue contract (the in-process queue here, the BullMQ queue
 * in scale-out/ implement it) and the in-process queue, which executes `concurrency` runs at once.
 */
import type { RunEvent } from '../engine/events';
import type { CancelSignal, RunResult } from '../engine/executor';
import type { RunInputs } from '../engine/contract';
import type { JsonValue } from './json-values';
import { QueueClosedError, QueueFullError, ShutdownAbort } from './run-errors';
import type { RunError, RunState } from './store/runs';

/**
 * Runs executed at once in-process by default: enough in flight for model calls of different runs to fill a
 * batch on each lane (bench/server.ts with BENCH_WORKFLOW=generate, 16 connections: 1.5× one connection's runs/s
 * at 4, 3× at 8, 2.7× at 16 on 2 cores), while the worst case, every run holding its whole pixel budget, stays
 * eight runs' worth. A GPU box batches wider: raise it there (`--concurrency`).
 */
export const DEFAULT_CONCURRENCY = 8;
/** Runs that may wait by default; beyond it new runs are refused with 503. */
export const DEFAULT_MAX_QUEUE = 256;

interface CommonStats {
  waiting: number;
  running: number;
  maxLength: number;
}

/** In-process: `concurrency` runs at once here. BullMQ: runs execute on the `workers` connected to the queue (null: Redis did not answer). */
export type QueueStats = (CommonStats & { mode: 'in-process'; concurrency: number }) | (CommonStats & { mode: 'bullmq'; workers: number | null });

/** How a run ended, as the run manager records it. */
export interface RunEnd {
  status: RunState;
  error?: RunError | null;
  /** The engine's result; for a run executed elsewhere its output values are already JSON (images as artifact references). */
  result?: RunResult;
}

/** Node outputs as JSON by node id: what a resumed run's earlier attempt finished. */
export type ReusedOutputs = Record<string, Record<string, JsonValue>>;

/** Everything a runner needs to execute a run, handed to the queue when the run is queued. */
export interface RunJob {
  runId: string;
  /** As submitted; a runner elsewhere validates it against its own catalog. */
  workflow: unknown;
  inputs: RunInputs;
  /** The artifacts the run reads (node params, reused images): shipped to a runner elsewhere. */
  artifacts: string[];
  /** Outputs of nodes finished before the run was interrupted: they are not computed again. */
  reuse: ReusedOutputs;
}

/** Executes one run; it must settle (never hang on a dead run) and report its own failures. It may settle before the run's end is recorded: the slot bounds execution. */
export type RunProcessor = (job: RunJob, signal: RunSignal) => Promise<void>;

/** How a queue stops a run it handed out: cancelled, or `reason` a ShutdownAbort at shutdown. */
export interface RunSignal extends CancelSignal {
  readonly reason: unknown;
}

/**
 * The in-process queue's stop switch for one run, handed to the engine as its signal. Not an
 * AbortController: Node's AbortSignal is a slow-mode EventTarget, and one per run was an eighth of a busy
 * trigger server's main-thread time at 16 connections (bench/server.ts).
 */
class RunSwitch implements RunSignal {
  aborted = false;
  reason: unknown = undefined;
  private readonly listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  abort(reason: unknown = new Error('run cancelled')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    for (const listener of this.listeners.splice(0)) listener();
  }
}

/**
 * What a queue gets from the run manager: `process` executes a run here; a queue whose runs execute
 * elsewhere reports back with `report` (engine events, outputs as JSON) and `end`.
 */
export interface RunHost {
  process: RunProcessor;
  report(runId: string, event: RunEvent): void;
  end(runId: string, end: RunEnd): Promise<void>;
}

export interface RunQueue {
  /** Connects to what the queue runs on; called once, before the first `add`. */
  open(): Promise<void>;
  /** Adds a run at the back (admission happened before: see `assertRoom`); throws QueueClosedError, or QueueUnavailableError. */
  add(job: RunJob): Promise<void>;
  /** `waiting`: removed before it started; `running`: asked to stop at its next cancellation point; false: not in the queue. */
  cancel(runId: string): Promise<'waiting' | 'running' | false>;
  /** Throws QueueFullError when `reserved` more runs would not fit, QueueClosedError when closed: callers refuse before doing work. */
  assertRoom(reserved: number): void;
  stats(): Promise<QueueStats>;
  /**
   * Stops taking runs, lets running ones finish for up to `timeoutMs`, then aborts them (reason:
   * ShutdownAbort) and waits for them to settle. Returns the ids that were waiting and never started.
   */
  close(timeoutMs: number): Promise<string[]>;
}

/** A moving average of run time, for a Retry-After that means something. */
export class RunTimes {
  private averageMs = 1_000;

  record(ms: number): void {
    this.averageMs = 0.8 * this.averageMs + 0.2 * ms;
  }

  /** Seconds (1 to 60) until `waiting` runs ahead have gone through `parallel` runners. */
  retryAfter(waiting: number, parallel: number): number {
    const seconds = (this.averageMs * (waiting + 1)) / Math.max(1, parallel) / 1000;
    return Math.min(60, Math.max(1, Math.ceil(seconds)));
  }
}

/** Whether `promise` settled within `ms` (false: the time ran out first). */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface InProcessQueueOptions {
  concurrency: number;
  maxLength: number;
}

export class InProcessRunQueue implements RunQueue {
  private readonly waiting: RunJob[] = [];
  private readonly running = new Map<string, { run: RunSwitch; done: Promise<void> }>();
  private readonly times = new RunTimes();
  private closed = false;

  constructor(
    private readonly processor: RunProcessor,
    private readonly options: InProcessQueueOptions,
  ) {}

  async open(): Promise<void> {}

  async add(job: RunJob): Promise<void> {
    if (this.closed) throw new QueueClosedError();
    this.waiting.push(job);
    this.pump();
  }

  async cancel(runId: string): Promise<'waiting' | 'running' | false> {
    const index = this.waiting.findIndex((job) => job.runId === runId);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      return 'waiting';
    }
    const running = this.running.get(runId);
    if (!running) return false;
    running.run.abort();
    return 'running';
  }

  assertRoom(reserved: number): void {
    if (this.closed) throw new QueueClosedError();
    const waiting = this.waiting.length + reserved;
    if (waiting >= this.options.maxLength) throw new QueueFullError(this.times.retryAfter(waiting, this.options.concurrency));
  }

  async stats(): Promise<QueueStats> {
    return { mode: 'in-process', waiting: this.waiting.length, running: this.running.size, ...this.options };
  }

  async close(timeoutMs: number): Promise<string[]> {
    this.closed = true;
    const neverStarted = this.waiting.splice(0).map((job) => job.runId);
    const settled = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (!(await settledWithin(settled(), timeoutMs))) {
      for (const { run } of this.running.values()) run.abort(new ShutdownAbort());
      await settled();
    }
    return neverStarted;
  }

  private pump(): void {
    while (this.running.size < this.options.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const run = new RunSwitch();
      const started = performance.now();
      const done = this.processor(job, run)
        .catch((err: Error) => process.emitWarning(`run ${job.runId}: processor failed: ${err.message}`))
        .finally(() => {
          this.times.record(performance.now() - started);
          this.running.delete(job.runId);
          if (!this.closed) this.pump();
        });
      this.running.set(job.runId, { run, done });
    }
  }
}
