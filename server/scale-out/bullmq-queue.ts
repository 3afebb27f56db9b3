// The scale-out RunQueue: runs wait in BullMQ on Redis for workers; their reports come back as queue events.
import { Queue, QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import type { RunEvent } from '../../engine/events';
import type { ArtifactStore } from '../artifacts';
import { imageRefsIn } from '../json-values';
import { OrderedSteps } from '../ordered-steps';
import { QueueClosedError, QueueFullError, QueueUnavailableError, ShutdownAbort } from '../run-errors';
import { RunTimes, settledWithin, type QueueStats, type RunEnd, type RunHost, type RunJob, type RunQueue } from '../run-queue';
import { requestCancel, withdrawCancel } from './cancel';
import { bullmqConnection, QUEUE, redisClient, redisLabel, type RunJobData, type WorkerOutcome } from './protocol';
import { ArtifactTransit } from './transit';

export interface BullmqQueueOptions {
  redisUrl: string;
  /** Runs that may wait for a worker; beyond it new runs get 503. */
  maxLength: number;
  artifacts: ArtifactStore;
  logger: Logger;
  /** How long `open` waits for Redis before giving up. */
  connectTimeoutMs?: number;
  /** How often the jobs of runs under way are checked for (a Redis restarted empty or flushed loses them). */
  checkEveryMs?: number;
}

/** A run this server queued and has not seen end. */
interface Tracked {
  /** A worker reported `run:started`. */
  started: boolean;
  startedAt: number;
  /** The run's reports, in order: each waits for the artifacts it names to be taken in. */
  steps: OrderedSteps;
  /** Consecutive checks that found no job for it in Redis. */
  missing: number;
  /** Consecutive checks that found its job active with no worker's lock on it. */
  unlocked: number;
  ended: Promise<void>;
  resolveEnded(): void;
  /** Cancelled by this server's shutdown: it ends `interrupted`, not `cancelled`. */
  shutdown: boolean;
}

/**
 * The scale-out queue: runs wait in a BullMQ queue on Redis and execute on `picflow worker`
 * processes; this server stays the front door and learns how each run goes from the queue's events.
 *
 * A worker that dies mid-run (or stalls past its lock) loses the run: BullMQ fails the job (workers
 * run with maxStalledCount 0) and the run ends `interrupted`. BullMQ's stalled check runs in workers, so
 * when the dead worker was the only one nothing would notice: this server also ends a run whose job is
 * active with its lock lapsed (see checkEachJob). A lost run is not retried: its events are out
 * to clients and partly recorded, and a replay would show the run going backwards; resubmitting it
 * is one request (or a resume, which reuses the nodes it finished).
 *
 * Redis itself may go: while it is away new runs are refused (503, before any work), and every few
 * seconds the jobs of runs under way are looked for; a run whose job is gone twice running (Redis
 * came back empty, or was flushed) ends `interrupted`, saying so, and its worker is asked to stop.
 */
export class BullmqRunQueue implements RunQueue {
  private readonly queue: Queue<RunJobData, WorkerOutcome>;
  private events: QueueEvents | undefined;
  private readonly redis;
  private readonly transit: ArtifactTransit;
  private readonly runs = new Map<string, Tracked>();
  private readonly times = new RunTimes();
  private closed = false;
  private checker: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly host: RunHost,
    private readonly options: BullmqQueueOptions,
  ) {
    this.queue = new Queue(QUEUE, { connection: bullmqConnection(options.redisUrl, 'producer') });
    this.redis = redisClient(options.redisUrl);
    this.transit = new ArtifactTransit(this.redis);
    const logError = (err: Error) => options.logger.warn({ err: err.message }, 'redis connection error');
    this.queue.on('error', logError);
    this.redis.on('error', logError);
  }

  async open(): Promise<void> {
    const ready = Promise.all([this.queue.waitUntilReady(), this.redis.ping()]);
    if (!(await settledWithin(ready.catch(() => undefined), this.options.connectTimeoutMs ?? 10_000))) {
      await this.disconnect();
      throw new Error(`Redis at ${redisLabel(this.options.redisUrl)} did not answer`);
    }
    await ready;
    // Jobs left by an earlier server process: sqlite is the truth at start-up (its queued runs are queued
    // again after open, its running ones interrupted), so these go, and workers stop what they hold.
    await this.queue.drain();
    for (const job of await this.queue.getActive()) if (job.id) await requestCancel(this.redis, job.id);
    // Read the event stream from its present end, so that no event of this server's runs can come before the reader.
    const [last] = await this.redis.xrevrange(this.queue.keys.events, '+', '-', 'COUNT', 1);
    const events = new QueueEvents(QUEUE, { connection: bullmqConnection(this.options.redisUrl, 'consumer'), lastEventId: last?.[0] ?? '0-0' });
    events.on('error', (err) => this.options.logger.warn({ err: err.message }, 'redis connection error'));
    events.on('progress', ({ jobId, data }) => this.onProgress(jobId, data as RunEvent));
    events.on('completed', ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue as unknown as WorkerOutcome));
    events.on('failed', ({ jobId, failedReason }) =>
      this.settle(jobId, async () => ({
        status: 'interrupted',
        error: { node: null, message: `the worker running it stopped before the run finished (${failedReason})` },
      })),
    );
    this.events = events;
    await events.waitUntilReady();
    this.checker = setInterval(() => void this.checkJobs(), this.options.checkEveryMs ?? 1_000);
    this.checker.unref();
  }

  async add(job: RunJob): Promise<void> {
    if (this.closed) throw new QueueClosedError();
    const { runId } = job;
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    const steps = new OrderedSteps((err) => this.options.logger.warn({ runId, err }, 'run report dropped'));
    this.runs.set(runId, { started: false, startedAt: 0, steps, missing: 0, unlocked: 0, ended, resolveEnded, shutdown: false });
    try {
      await withdrawCancel(this.redis, runId);
      await this.transit.ship(runId, job.artifacts, this.options.artifacts);
      const data: RunJobData = { runId, workflow: job.workflow, inputs: job.inputs, reuse: job.reuse };
      await this.queue.add('run', data, { jobId: runId, removeOnComplete: true, removeOnFail: true });
    } catch (err) {
      this.untrack(runId);
      this.options.logger.warn({ runId, err: (err as Error).message }, 'could not queue a run in Redis');
      throw new QueueUnavailableError();
    }
  }

  async cancel(runId: string): Promise<'waiting' | 'running' | false> {
    const tracked = this.runs.get(runId);
    if (!tracked) return false;
    // `remove` refuses a job a worker holds (it is locked).
    if (!tracked.started && (await this.queue.remove(runId)) === 1) {
      this.untrack(runId);
      return 'waiting';
    }
    await requestCancel(this.redis, runId);
    return 'running';
  }

  assertRoom(reserved: number): void {
    if (this.closed) throw new QueueClosedError();
    if (this.redis.status !== 'ready') throw new QueueUnavailableError();
    const waiting = this.waitingCount() + reserved;
    // When runs wait, every worker is busy: the runs running now are the workers' capacity.
    if (waiting >= this.options.maxLength) throw new QueueFullError(this.times.retryAfter(waiting, this.runs.size - waiting));
  }

  async stats(): Promise<QueueStats> {
    const workers = await this.queue.getWorkersCount().catch(() => null);
    const waiting = this.waitingCount();
    return { mode: 'bullmq', waiting, running: this.runs.size - waiting, maxLength: this.options.maxLength, workers };
  }

  /** Runs queued here that no worker has started yet. */
  private waitingCount(): number {
    let waiting = 0;
    for (const tracked of this.runs.values()) if (!tracked.started) waiting++;
    return waiting;
  }

  async close(timeoutMs: number): Promise<string[]> {
    this.closed = true;
    clearInterval(this.checker);
    const neverStarted: string[] = [];
    for (const [runId, tracked] of this.runs) {
      if (!tracked.started && (await this.queue.remove(runId).catch(() => 0)) === 1) {
        this.untrack(runId);
        neverStarted.push(runId);
      }
    }
    const settled = () => Promise.all([...this.runs.values()].map((r) => r.ended));
    if (!(await settledWithin(settled(), timeoutMs))) {
      for (const [runId, tracked] of this.runs) {
        tracked.shutdown = true;
        await requestCancel(this.redis, runId).catch(() => undefined);
      }
      // A worker that does not answer in time is not waited for: its runs end here.
      if (!(await settledWithin(settled(), timeoutMs))) {
        const error = { node: null, message: new ShutdownAbort().message };
        await Promise.all([...this.runs.keys()].map((runId) => this.finish(runId, { status: 'interrupted', error })));
      }
    }
    await this.disconnect();
    return neverStarted;
  }

  private onProgress(runId: string, event: RunEvent): void {
    const tracked = this.runs.get(runId);
    if (!tracked) return;
    if (event.type === 'run:started' && !tracked.started) {
      tracked.started = true;
      tracked.startedAt = performance.now();
    }
    tracked.steps.push(async () => {
      if ('outputs' in event) await this.transit.receive(runId, imageRefsIn(Object.values(event.outputs)), this.options.artifacts);
      this.host.report(runId, event);
    });
  }

  private onCompleted(runId: string, outcome: WorkerOutcome): void {
    this.settle(runId, async (tracked) => {
      const { result } = outcome;
      try {
        await this.transit.receive(runId, imageRefsIn(Object.values(result.outputs).map((o) => o.value)), this.options.artifacts);
      } catch (err) {
        return { status: 'failed', error: { node: null, message: `the run's outputs could not be stored: ${(err as Error).message}` }, result: { ...result, outputs: {} } };
      }
      const interrupted = tracked.shutdown ? new ShutdownAbort().message : outcome.interrupted;
      if (interrupted) return { status: 'interrupted', error: { node: null, message: interrupted }, result };
      return { status: result.status, error: result.error ?? null, result };
    });
  }

  /** Ends a run after its earlier reports, with the end `describe` makes of it. */
  private settle(runId: string, describe: (tracked: Tracked) => Promise<RunEnd>): void {
    const tracked = this.runs.get(runId);
    if (tracked) tracked.steps.push(async () => this.finish(runId, await describe(tracked)));
  }

  /** Looks for the job of every run under way: one missing, or held by a worker gone silent, is lost. */
  private async checkJobs(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.checkEachJob();
    } finally {
      this.checking = false;
    }
  }

  /**
   * A job missing on two checks in a row (not just completed and removed) was lost with Redis's data. An
   * active job without a lock on two checks in a row lost its worker: a worker holds the lock from the moment
   * it takes the job and renews it until the job leaves `active`, so the lock lapses only when the worker has
   * been silent for its stall time (killed, its machine gone).
   */
  private async checkEachJob(): Promise<void> {
    for (const [runId, tracked] of this.runs) {
      const state = await this.queue.getJobState(runId).catch(() => undefined);
      // Undefined: Redis does not answer; the run may still be fine, so nothing is concluded.
      if (state === undefined) return;
      tracked.missing = state === 'unknown' ? tracked.missing + 1 : 0;
      if (tracked.missing === 2) {
        this.options.logger.warn({ runId }, 'the job of a run vanished from Redis');
        await this.lose(runId, 'the run was lost from the queue (Redis restarted empty or was flushed); resume it to run it again');
        continue;
      }
      const locked = state !== 'active' || (await this.redis.exists(`${this.queue.toKey(runId)}:lock`).catch(() => 1)) === 1;
      tracked.unlocked = locked ? 0 : tracked.unlocked + 1;
      if (tracked.unlocked !== 2) continue;
      this.options.logger.warn({ runId }, 'the worker running a run went silent');
      await this.queue.remove(runId).catch(() => 0);
      await this.lose(runId, 'the worker running it stopped before the run finished (it went silent past its stall time); resume the run to finish it');
    }
  }

  /** Ends a run the queue lost `interrupted`, and asks whatever may still hold it to stop. */
  private async lose(runId: string, message: string): Promise<void> {
    await requestCancel(this.redis, runId).catch(() => undefined);
    this.settle(runId, async () => ({ status: 'interrupted', error: { node: null, message } }));
  }

  private async finish(runId: string, end: RunEnd): Promise<void> {
    const tracked = this.runs.get(runId);
    if (!tracked) return;
    await this.host.end(runId, end);
    if (tracked.started) this.times.record(performance.now() - tracked.startedAt);
    this.untrack(runId);
  }

  private untrack(runId: string): void {
    const tracked = this.runs.get(runId);
    if (!tracked) return;
    this.runs.delete(runId);
    tracked.resolveEnded();
    this.transit.drop(runId).catch((err) => this.options.logger.warn({ runId, err: err.message }, 'could not drop the artifacts in transit'));
  }

  private async disconnect(): Promise<void> {
    await Promise.allSettled([this.events?.close(), this.queue.close(), this.redis.quit()]);
  }
}
