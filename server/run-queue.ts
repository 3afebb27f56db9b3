/** Executes one run to its end; it must settle (never hang on a dead run) and report its own failures. */
export type RunProcessor = (runId: string, signal: AbortSignal) => Promise<void>;

export interface QueueStats {
  waiting: number;
  running: number;
  concurrency: number;
  maxLength: number;
}

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

/**
 * Where runs wait for a worker. The in-process queue below is the default; a BullMQ queue on Redis
 * can implement the same interface so that several GPU workers take runs from one queue.
 */
export interface RunQueue {
  /** Adds a run at the back; throws QueueFullError or QueueClosedError. */
  add(runId: string): Promise<void>;
  /** `waiting`: removed before it started; `running`: its signal is aborted; false: not in the queue. */
  cancel(runId: string): 'waiting' | 'running' | false;
  /** Throws what `add` would throw now (QueueFullError, QueueClosedError): lets callers refuse before doing work. */
  assertRoom(): void;
  stats(): QueueStats;
  /**
   * Stops taking runs, lets running ones finish for up to `timeoutMs`, then aborts them (reason:
   * ShutdownAbort) and waits for them to settle. Returns the ids that were waiting and never started.
   */
  close(timeoutMs: number): Promise<string[]>;
}

export interface InProcessQueueOptions {
  concurrency: number;
  maxLength: number;
}

export class InProcessRunQueue implements RunQueue {
  private readonly waiting: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private closed = false;
  /** Moving average of run time, for a Retry-After that means something. */
  private averageMs = 1_000;

  constructor(
    private readonly processor: RunProcessor,
    private readonly options: InProcessQueueOptions,
  ) {}

  async add(runId: string): Promise<void> {
    this.assertRoom();
    this.waiting.push(runId);
    this.pump();
  }

  cancel(runId: string): 'waiting' | 'running' | false {
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
      const seconds = (this.averageMs * (this.waiting.length + 1)) / this.options.concurrency / 1000;
      throw new QueueFullError(Math.min(60, Math.max(1, Math.ceil(seconds))));
    }
  }

  stats(): QueueStats {
    return { waiting: this.waiting.length, running: this.running.size, ...this.options };
  }

  async close(timeoutMs: number): Promise<string[]> {
    this.closed = true;
    const neverStarted = this.waiting.splice(0);
    const settled = () => Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      settled().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
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
          this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - started);
          this.running.delete(runId);
          if (!this.closed) this.pump();
        });
      this.running.set(runId, { controller, done });
    }
  }
}
