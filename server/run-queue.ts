import type { RunEvent } from '../engine/events';
import type { RunResult } from '../engine/executor';
import type { RunInputs } from '../engine/workflow';
import type { RunError, RunState } from './store/runs';

/** Executes one run to its end; it must settle (never hang on a dead run) and report its own failures. */
export type RunProcessor = (runId: string, signal: AbortSignal) => Promise<void>;

interface CommonStats {
  waiting: number;
  running: number;
  maxLength: number;
}

/** In-process: `concurrency` runs at once here. BullMQ: runs execute on the `workers` connected to the queue (null: Redis did not answer). */
export type QueueStats = (CommonStats & { mode: 'in-process'; concurrency: number }) | (CommonStats & { mode: 'bullmq'; workers: number | null });

/** The queue holds `maxLength` waiting runs; callers answer 503 with this Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the run queue is full; try again later');
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('the server is shutting down and takes no new runs');
  }
}

/** The abort reason of runs stopped because the server shuts down (as opposed to a user's cancel). */
export class ShutdownAbort extends Error {
  constructor() {
    super('the server shut down before the run finished');
  }
}

/** How a run ended, as the run manager records it. */
export interface RunEnd {
  status: RunState;
  error?: RunError | null;
  /** The engine's result; for a run executed elsewhere its output values are already JSON (images as artifact references). */
  result?: RunResult;
}

/** What a worker elsewhere needs to execute a run: the workflow as submitted, the run inputs, and the artifacts it reads. */
export interface RunJob {
  workflow: unknown;
  inputs: RunInputs;
  artifacts: string[];
}

/**
 * What a queue gets from the run manager: `process` executes a run here; a queue whose runs execute
 * elsewhere describes them with `job` and reports back with `report` (engine events, outputs as
 * JSON) and `end`.
 */
export interface RunHost {
  process: RunProcessor;
  job(runId: string): RunJob | undefined;
  report(runId: string, event: RunEvent): void;
  end(runId: string, end: RunEnd): Promise<void>;
}

/**
 * Where runs wait for a worker. The in-process queue below is the default; the BullMQ queue
 * (server/scale-out) implements the same interface so that several GPU workers take runs from one queue.
 */
export interface RunQueue {
  /** Connects to what the queue runs on; called once, before the first `add`. */
  open(): Promise<void>;
  /** Adds a run at the back; throws QueueFullError or QueueClosedError. */
  add(runId: string): Promise<void>;
  /** `waiting`: removed before it started; `running`: asked to stop at its next cancellation point; false: not in the queue. */
  cancel(runId: string): Promise<'waiting' | 'running' | false>;
  /** Throws what `add` would throw now (QueueFullError, QueueClosedError): lets callers refuse before doing work. */
  assertRoom(): void;
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
  private readonly waiting: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly times = new RunTimes();
  private closed = false;

  constructor(
    private readonly processor: RunProcessor,
    private readonly options: InProcessQueueOptions,
  ) {}

  async open(): Promise<void> {}

  async add(runId: string): Promise<void> {
    this.assertRoom();
    this.waiting.push(runId);
    this.pump();
  }

  async cancel(runId: string): Promise<'waiting' | 'running' | false> {
    const index = this.waiting.indexOf(runId);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      return 'waiting';
    }
    const running = this.running.get(runId);
    if (!running) return false;
    running.controller.abort();
    return 'running';
  }

  assertRoom(): void {
    if (this.closed) throw new QueueClosedError();
    if (this.waiting.length >= this.options.maxLength) {
      throw new QueueFullError(this.times.retryAfter(this.waiting.length, this.options.concurrency));
    }
  }

  async stats(): Promise<QueueStats> {
    return { mode: 'in-process', waiting: this.waiting.length, running: this.running.size, ...this.options };
  }

  async close(timeoutMs: number): Promise<string[]> {
    this.closed = true;
    const neverStarted = this.waiting.splice(0);
    const settled = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (!(await settledWithin(settled(), timeoutMs))) {
      for (const { controller } of this.running.values()) controller.abort(new ShutdownAbort());
      await settled();
    }
    return neverStarted;
  }

  private pump(): void {
    while (this.running.size < this.options.concurrency && this.waiting.length > 0) {
      const runId = this.waiting.shift()!;
      const controller = new AbortController();
      const started = performance.now();
      const done = this.processor(runId, controller.signal)
        .catch((err: Error) => process.emitWarning(`run ${runId}: processor failed: ${err.message}`))
        .finally(() => {
          this.times.record(performance.now() - started);
          this.running.delete(runId);
          if (!this.closed) this.pump();
        });
      this.running.set(runId, { controller, done });
    }
  }
}
