// `picflow worker`: takes runs from the BullMQ queue, executes them, and reports back on the job.
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { OutputCache } from '../../engine/cache';
import { Engine } from '../../engine/engine';
import type { RunEvent } from '../../engine/events';
import type { RunResult } from '../../engine/executor';
import type { Catalog } from '../../engine/node';
import { ModelRuntime } from '../../engine/runtime';
import { createServices } from '../../engine/services';
import { catalog as shippedCatalog } from '../../nodes';
import { toJsonOutputs, toJsonPorts, type ImageSink } from '../json-values';
import { createLogger } from '../logger';
import { OrderedSteps } from '../ordered-steps';
import { settledWithin } from '../run-queue';
import { reviveOutputs } from '../run-reuse';
import { cancelRequested, onCancelRequest } from './cancel';
import { bullmqConnection, QUEUE, redisClient, redisLabel, type RunJobData, type WorkerOutcome } from './protocol';
import { ArtifactTransit } from './transit';

export interface WorkerOptions {
  redisUrl: string;
  /**
   * Runs taken at once. 1 by default: model calls share one device queue anyway, and a worker that
   * takes only what it can start leaves the rest of the queue to idle workers.
   */
  concurrency?: number;
  /** The node types runs may use; the shipped catalog unless a test brings its own. */
  catalog?: Catalog;
  logger?: Logger;
  /**
   * A worker that has not renewed its runs' locks for this long is taken for dead, and its runs end
   * `interrupted` (checked by the other workers every half of it).
   */
  stallMs?: number;
  /** How long SIGTERM lets running runs finish before stopping them (they end `interrupted`). */
  shutdownTimeoutMs?: number;
  /** The model runtime every run of this worker shares; the shipped models on `auto` unless the host builds one. */
  models?: ModelRuntime;
}

export interface PicflowWorker {
  logger: Logger;
  /** Takes no new runs; running ones finish, or are stopped after the shutdown timeout. */
  close(): Promise<void>;
}

/** The abort reason of runs stopped because this worker shuts down. */
class WorkerShutdown extends Error {
  constructor() {
    super('the worker shut down before the run finished');
  }
}

/**
 * `picflow worker`: takes runs from the BullMQ queue and executes them with the engine and the shared
 * model runtime. What it reports goes back on the job (protocol.ts); it needs Redis and nothing else.
 */
export async function startWorker(options: WorkerOptions): Promise<PicflowWorker> {
  const logger = options.logger ?? createLogger();
  const redis = redisClient(options.redisUrl);
  const subscriber = redis.duplicate();
  for (const connection of [redis, subscriber]) connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const transit = new ArtifactTransit(redis);
  const catalog = options.catalog ?? shippedCatalog;
  // One cache for all the runs this worker executes, as the in-process server has.
  const cache = new OutputCache();
  const models = options.models ?? new ModelRuntime();
  const running = new Map<string, AbortController>();
  await onCancelRequest(subscriber, (runId) => running.get(runId)?.abort(new Error('run cancelled')));

  const execute = async (job: Job<RunJobData, WorkerOutcome>): Promise<WorkerOutcome> => {
    const { runId, workflow, inputs, reuse = {} } = job.data;
    const controller = new AbortController();
    running.set(runId, controller);
    try {
      // Registered first, then looked up: a request that came before the registration is seen here.
      if (await cancelRequested(redis, runId)) controller.abort(new Error('run cancelled'));
      logger.info({ runId }, 'run taken');
      const sink = transit.sink(runId);
      const reporter = jobReporter(job, sink, logger);
      const artifacts = transit.reader(runId);
      const engine = new Engine({ catalog, cache, services: createServices({ allowFilePaths: false, artifacts, models }) });
      const reused = await reviveOutputs(reuse, artifacts, (nodeId, err) => logger.warn({ runId, nodeId, err: err.message }, 'a finished node of the interrupted run runs again'));
      let result: RunResult;
      try {
        result = await engine.run(workflow, { runId, inputs, signal: controller.signal, onEvent: reporter.send, reuse: reused });
      } catch (err) {
        // The workflow does not fit this worker's catalog (the server validated it against its own).
        result = { runId, status: 'failed', ms: 0, error: { node: null, message: (err as Error).message }, nodes: {}, outputs: {} };
      }
      await reporter.sent();
      const outcome: WorkerOutcome = { result: { ...result, outputs: await toJsonOutputs(result.outputs, sink) } };
      if (controller.signal.reason instanceof WorkerShutdown) outcome.interrupted = controller.signal.reason.message;
      logger.info({ runId, status: outcome.interrupted ? 'interrupted' : result.status, ms: result.ms }, 'run done');
      return outcome;
    } finally {
      running.delete(runId);
    }
  };

  const stallMs = options.stallMs ?? 30_000;
  const worker = new Worker<RunJobData, WorkerOutcome>(QUEUE, execute, {
    connection: bullmqConnection(options.redisUrl, 'consumer'),
    name: `${hostname()}:${process.pid}`,
    concurrency: options.concurrency ?? 1,
    lockDuration: stallMs,
    stalledInterval: Math.max(1, Math.floor(stallMs / 2)),
    // A lost run is not retried: see BullmqRunQueue.
    maxStalledCount: 0,
  });
  worker.on('error', (err) => logger.warn({ err: err.message }, 'worker error'));
  await worker.waitUntilReady();
  logger.info({ redis: redisLabel(options.redisUrl), concurrency: worker.concurrency }, 'worker ready');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info({ running: running.size }, 'worker shutting down');
      const closed = worker.close();
      if (!(await settledWithin(closed, options.shutdownTimeoutMs ?? 10_000))) {
        for (const controller of running.values()) controller.abort(new WorkerShutdown());
      }
      await closed;
      await Promise.allSettled([subscriber.quit(), redis.quit(), models.close()]);
      logger.info('worker stopped');
    })());
  return { logger, close };
}

/**
 * Sends a run's engine events on its job's progress channel, in order, outputs as JSON (each image's
 * PNG handed over first). `run:finished` is left out: the job's return value says how the run ended.
 */
function jobReporter(job: Job, sink: ImageSink, logger: Logger) {
  const steps = new OrderedSteps((err) => logger.warn({ runId: job.id, err: (err as Error).message }, 'run event not sent'));
  return {
    send: (event: RunEvent) => {
      if (event.type === 'run:finished') return;
      steps.push(async () => job.updateProgress('outputs' in event ? { ...event, outputs: await toJsonPorts(event.outputs, sink) } : event));
    },
    sent: () => steps.settled(),
  };
}
