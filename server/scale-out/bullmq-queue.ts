import { Queue, QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import type { RunEvent } from '../../engine/events';
import type { ArtifactStore } from '../artifacts';
import { imageRefsIn } from '../json-values';
import {
  QueueClosedError,
  QueueFullError,
  RunTimes,
  settledWithin,
  ShutdownAbort,
  type QueueStats,
  type RunEnd,
  type RunHost,
  type RunQueue,
} from '../run-queue';
import { requestCancel } from './cancel';
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
}

/** A run this server queued and has not seen end. */
interface Tracked {
  /** A worker reported `run:started`. */
  started: boolean;
  startedAt: number;
  /** The run's reports, in order: each waits for the artifacts it names to be taken in. */
  chain: Promise<void>;
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
 * run with maxStalledCount 0) and the run ends `interrupted`. It is not retried: its events are out
 * to clients and partly recorded, and a replay would show the run going backwards; resubmitting it
 * is one request.
 */
export class BullmqRunQueue implements RunQueue {
  private readonly queue: Queue<RunJobData, WorkerOutcome>;
  private events: QueueEvents | undefined;
  private readonly redis;
  private readonly transit: ArtifactTransit;
  private readonly runs = new Map<string, Tracked>();
  private readonly times = new RunTimes();
  private closed = false;

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
    // Jobs left by an earlier server process: their runs were marked interrupted when this one started.
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
  }

  async add(runId: string): Promise<void> {
    this.assertRoom();
    const job = this.host.job(runId);
    if (!job) throw new Error(`run ${runId} is not known here`);
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    this.runs.set(runId, { started: false, startedAt: 0, chain: Promise.resolve(), ended, resolveEnded, shutdown: false });
    try {
      await this.transit.ship(runId, job.artifacts, this.options.artifacts);
      const data: RunJobData = { runId, workflow: job.workflow, inputs: job.inputs };
      await this.queue.add('run', data, { jobId: runId, removeOnComplete: true, removeOnFail: true });
    } catch (err) {
      this.untrack(runId);
      throw err;
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

  assertRoom(): void {
    if (this.closed) throw new QueueClosedError();
    const waiting = this.waitingCount();
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
    this.enqueue(runId, tracked, async () => {
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
    if (tracked) this.enqueue(runId, tracked, async () => this.finish(runId, await describe(tracked)));
  }

  private enqueue(runId: string, tracked: Tracked, step: () => Promise<void>): void {
    tracked.chain = tracked.chain.then(step).catch((err) => this.options.logger.warn({ runId, err }, 'run report dropped'));
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
