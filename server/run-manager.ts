import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine';
import type { RunEvent } from '../engine/events';
import type { RunResult } from '../engine/executor';
import type { Graph } from '../engine/graph';
import { formatIssue, WorkflowError, type RunInputs } from '../engine/workflow';
import { referencedArtifacts, type ArtifactStore } from './artifacts';
import { HttpError } from './http-error';
import { toJsonOutputs, toJsonPorts, type JsonValue } from './json-values';
import { QueueClosedError, QueueFullError, ShutdownAbort, type RunEnd, type RunHost, type RunJob, type RunQueue } from './run-queue';
import { FINISHED, type NodeState, type RunError, type RunOutputJson, type RunRecord, type RunState, type RunStore } from './store/runs';

export interface RunRequest {
  workflow: unknown;
  inputs: RunInputs;
  workflowId: string | null;
  workflowVersion: number | null;
  source: string;
}

/** What clients hear about runs: the engine's events made JSON-safe, plus `run:queued`. */
export type RunMessage =
  | { type: 'run:queued'; runId: string; workflowId: string | null; at: number }
  | { type: 'run:started'; runId: string; nodes: string[]; at: number }
  | { type: 'node:started'; runId: string; nodeId: string; at: number }
  | { type: 'node:progress'; runId: string; nodeId: string; step: number; total: number }
  | { type: 'node:cached'; runId: string; nodeId: string; outputs: Record<string, JsonValue> }
  | { type: 'node:finished'; runId: string; nodeId: string; ms: number; outputs: Record<string, JsonValue> }
  | { type: 'node:error'; runId: string; nodeId: string; message: string }
  | {
      type: 'run:finished';
      runId: string;
      status: RunState;
      ms: number | null;
      error: RunError | null;
      outputs: Record<string, RunOutputJson>;
    };

export type CancelOutcome = 'cancelled' | 'cancelling' | 'finished' | 'unknown';

/** A queued or running run: its record as clients see it, and the chain that keeps its messages in order. */
interface LiveRun {
  record: RunRecord;
  graph: Graph;
  chain: Promise<void>;
  done: Promise<RunRecord>;
  resolve(record: RunRecord): void;
}

export interface RunManagerOptions {
  engine: Engine;
  runs: RunStore;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Builds the queue that will execute this manager's runs (here, with `host.process`, or on workers). */
  queue: (host: RunHost) => RunQueue;
}

/**
 * Owns the life of runs: admission, execution through the queue, the live state that late socket
 * clients are shown, recording in sqlite, and the messages that the socket bridge forwards.
 */
export class RunManager {
  readonly queue: RunQueue;
  private readonly live = new Map<string, LiveRun>();
  private readonly listeners = new Set<(message: RunMessage) => void>();
  /** Ends of executed runs still being recorded: close() waits for them. */
  private readonly recording = new Set<Promise<void>>();

  constructor(private readonly options: RunManagerOptions) {
    this.queue = options.queue({
      process: (runId, signal) => this.process(runId, signal),
      job: (runId) => this.job(runId),
      report: (runId, event) => this.report(runId, event),
      end: (runId, end) => this.end(runId, end),
    });
  }

  /** Connects the queue (a no-op in-process); before the first run. */
  open(): Promise<void> {
    return this.queue.open();
  }

  onMessage(listener: (message: RunMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The validated graph of a workflow with run inputs, or HttpError 400 listing every problem. */
  prepare(workflow: unknown, inputs: RunInputs): Graph {
    try {
      return this.options.engine.prepare(workflow, inputs);
    } catch (err) {
      if (!(err instanceof WorkflowError)) throw err;
      const { issues } = err;
      throw new HttpError(400, issues.length === 1 ? `invalid workflow: ${formatIssue(issues[0])}` : `invalid workflow: ${issues.length} problems`, issues);
    }
  }

  /** Validates and queues a run; throws HttpError 400 (invalid) or 503 (queue full, shutting down). */
  async submit(request: RunRequest): Promise<string> {
    const graph = this.prepare(request.workflow, request.inputs);
    try {
      this.queue.assertRoom();
    } catch (err) {
      throw queueRefusal(err);
    }

    const record: RunRecord = {
      id: randomUUID(),
      workflowId: request.workflowId,
      workflowVersion: request.workflowVersion,
      source: request.source,
      status: 'queued',
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      ms: null,
      error: null,
      outputs: {},
      workflow: request.workflow,
      inputs: request.inputs,
      nodes: {},
    };
    await this.options.runs.insert(record);
    let resolve!: (record: RunRecord) => void;
    const done = new Promise<RunRecord>((r) => (resolve = r));
    const live: LiveRun = { record, graph, chain: Promise.resolve(), done, resolve };
    this.live.set(record.id, live);
    this.post(live, () => ({ type: 'run:queued', runId: record.id, workflowId: record.workflowId, at: record.createdAt }));
    try {
      await this.queue.add(record.id);
    } catch (err) {
      // Lost a race for the last places in the queue: the run ends here, and says why.
      await this.complete(live, { status: 'failed', error: { node: null, message: (err as Error).message } });
      throw queueRefusal(err);
    }
    return record.id;
  }

  /** The run as clients see it now: live state while queued or running, else the stored record. */
  async get(runId: string): Promise<RunRecord | undefined> {
    return this.live.get(runId)?.record ?? this.options.runs.get(runId);
  }

  /** Synchronous, for socket subscriptions: the live state of a queued or running run. */
  snapshot(runId: string): RunRecord | undefined {
    return this.live.get(runId)?.record;
  }

  /** Waits for a run to finish and returns its record (undefined when the id is unknown). */
  async result(runId: string): Promise<RunRecord | undefined> {
    const live = this.live.get(runId);
    return live ? live.done : this.options.runs.get(runId);
  }

  async cancel(runId: string): Promise<CancelOutcome> {
    const live = this.live.get(runId);
    if (!live) return (await this.options.runs.get(runId)) ? 'finished' : 'unknown';
    const where = await this.queue.cancel(runId);
    if (where === 'waiting') {
      await this.complete(live, { status: 'cancelled' });
      return 'cancelled';
    }
    return 'cancelling';
  }

  /** Graceful shutdown: no new runs; running ones get `timeoutMs` to finish, then are aborted. */
  async close(timeoutMs: number): Promise<void> {
    const neverStarted = await this.queue.close(timeoutMs);
    await Promise.all(
      neverStarted.map((id) => this.complete(this.live.get(id)!, { status: 'interrupted', error: { node: null, message: new ShutdownAbort().message } })),
    );
    await Promise.all(this.recording);
  }

  private async process(runId: string, signal: AbortSignal): Promise<void> {
    const live = this.live.get(runId)!;
    let result: RunResult | undefined;
    let error: RunError | null = null;
    // Not awaited: the run need not wait for a commit to start, and when it ends first, its end record replaces
    // this write (see RunStore.markStarted). A failure only loses the 'running' mark; the end is recorded apart.
    this.options.runs.markStarted(runId, Date.now()).catch((err) => this.options.logger.warn({ runId, err }, 'could not record the start of a run'));
    try {
      result = await this.options.engine.runGraph(live.graph, { runId, signal, onEvent: (event) => this.relay(live, event) });
    } catch (err) {
      error = { node: null, message: (err as Error).message };
    }
    const end: RunEnd =
      signal.reason instanceof ShutdownAbort
        ? { status: 'interrupted', error: { node: null, message: signal.reason.message }, result }
        : { status: result?.status ?? 'failed', error: result?.error ?? error, result };
    // The queue's slot bounds execution; recording the end (outputs to JSON, a commit) goes on outside it so the
    // next run starts meanwhile. Waiters still hear of the run only once its end is committed.
    const recorded: Promise<void> = this.end(runId, end)
      .catch((err) => this.options.logger.error({ runId, err }, 'could not record the end of a run'))
      .finally(() => this.recording.delete(recorded));
    this.recording.add(recorded);
  }

  private job(runId: string): RunJob | undefined {
    const live = this.live.get(runId);
    return live && { workflow: live.record.workflow, inputs: live.record.inputs, artifacts: referencedArtifacts(live.graph) };
  }

  /** An event of a run executed elsewhere; one this server does not follow (finished, or never its own) is ignored. */
  private report(runId: string, event: RunEvent): void {
    const live = this.live.get(runId);
    if (!live) return;
    if (event.type === 'run:started') {
      live.chain = live.chain.then(() =>
        this.options.runs.markStarted(runId, event.at).catch((err) => this.options.logger.warn({ runId, err }, 'could not record the start of a run')),
      );
    }
    this.relay(live, event);
  }

  /** Records the end of a run once its earlier messages are out. */
  private async end(runId: string, end: RunEnd): Promise<void> {
    const live = this.live.get(runId);
    if (!live) return;
    await live.chain;
    await this.complete(live, end);
  }

  /** Engine events, in order, into the live state and out to listeners; the engine's own run:finished waits for `complete`. */
  private relay(live: LiveRun, event: RunEvent): void {
    const nodes = live.record.nodes;
    switch (event.type) {
      case 'run:started':
        this.post(live, () => {
          Object.assign(live.record, { status: 'running', startedAt: event.at });
          for (const id of event.nodes) nodes[id] = { status: 'pending', cached: false };
          return { type: 'run:started', runId: event.runId, nodes: event.nodes, at: event.at };
        });
        break;
      case 'node:started':
        this.post(live, () => {
          Object.assign(nodes[event.nodeId], { status: 'running', startedAt: event.at });
          return event;
        });
        break;
      case 'node:progress':
        this.post(live, () => {
          nodes[event.nodeId].progress = { step: event.step, total: event.total };
          return event;
        });
        break;
      case 'node:cached':
      case 'node:finished':
        this.post(live, async () => {
          const outputs = await toJsonPorts(event.outputs, this.options.artifacts);
          const cached = event.type === 'node:cached';
          Object.assign(nodes[event.nodeId], { status: cached ? 'cached' : 'succeeded', cached, outputs, ms: 'ms' in event ? event.ms : 0 });
          return { ...event, outputs };
        });
        break;
      case 'node:error':
        this.post(live, () => {
          Object.assign(nodes[event.nodeId], { status: 'failed', error: event.message });
          return event;
        });
        break;
      case 'run:finished':
        break;
    }
  }

  /** Queues a message behind the run's earlier ones; a message that cannot be built is logged and dropped. */
  private post(live: LiveRun, build: () => RunMessage | Promise<RunMessage>): void {
    live.chain = live.chain.then(async () => {
      try {
        this.emit(await build());
      } catch (err) {
        this.options.logger.warn({ runId: live.record.id, err }, 'run message dropped');
      }
    });
  }

  private emit(message: RunMessage): void {
    for (const listener of this.listeners) listener(message);
  }

  /** Records the end of a run, tells listeners, wakes waiters and forgets the live state. */
  private async complete(live: LiveRun, end: RunEnd): Promise<void> {
    const { record } = live;
    const { result } = end;
    if (FINISHED.has(record.status)) return;
    record.status = end.status;
    record.error = end.error ?? null;
    record.finishedAt = Date.now();
    record.ms = result?.ms ?? (record.startedAt === null ? null : record.finishedAt - record.startedAt);
    if (result) {
      for (const [id, node] of Object.entries(result.nodes)) {
        const { progress: _progress, ...state } = record.nodes[id] ?? { status: node.status, cached: false };
        record.nodes[id] = {
          ...state,
          status: node.status,
          cached: node.status === 'cached',
          ...(node.startedAt !== undefined && { startedAt: node.startedAt }),
          ...(node.ms !== undefined && { ms: node.ms }),
          ...(node.error !== undefined && { error: node.error }),
        } satisfies NodeState;
      }
      try {
        record.outputs = await toJsonOutputs(result.outputs, this.options.artifacts);
      } catch (err) {
        record.status = 'failed';
        record.error = { node: null, message: `the run's outputs could not be stored: ${(err as Error).message}` };
      }
    }
    try {
      await this.options.runs.finish(record.id, record);
    } catch (err) {
      this.options.logger.error({ runId: record.id, err }, 'could not record the end of a run');
    }
    this.post(live, () => ({
      type: 'run:finished',
      runId: record.id,
      status: record.status,
      ms: record.ms,
      error: record.error,
      outputs: record.outputs,
    }));
    await live.chain;
    this.live.delete(record.id);
    live.resolve(record);
    const level = record.status === 'failed' ? 'warn' : 'info';
    this.options.logger[level](
      { runId: record.id, workflowId: record.workflowId, source: record.source, status: record.status, ms: record.ms, error: record.error?.message },
      'run finished',
    );
  }
}

/** The 503 a refused submission gets, with Retry-After when waiting helps. */
function queueRefusal(err: unknown): HttpError {
  if (err instanceof QueueFullError) {
    return new HttpError(503, err.message, undefined, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  if (err instanceof QueueClosedError) return new HttpError(503, err.message);
  return new HttpError(503, `the run could not be queued: ${(err as Error).message}`);
}
