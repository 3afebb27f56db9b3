/**
 * The run service: admits runs, queues them (durably: each is recorded before anyone hears of it, and
 * what a crash left queued is queued again at start-up), follows them to their end, resumes
 * interrupted ones, records each run's messages in sqlite, and tells listeners (the socket bridge,
 * the ComfyUI relay) in each run's order, each message once it is recorded.
 * It speaks no HTTP: refusals are the domain errors of run-errors.ts and the engine's WorkflowError.
 */
import type { Logger } from 'pino';
import type { CompiledWorkflow, Engine } from '../engine/engine';
import type { RunEvent } from '../engine/events';
import type { RunResult } from '../engine/executor';
import type { Graph } from '../engine/graph';
import type { RunInputs } from '../engine/contract';
import { referencedArtifacts, type ArtifactStore } from './artifacts';
import type { RunMessage } from '../engine/contract';
import { applyEnd, applyEvent, finishedMessage, LiveRun } from './live-run';
import { RunStateError, ShutdownAbort, UnknownRunError } from './run-errors';
import type { RunEnd, RunHost, RunJob, RunQueue, RunSignal } from './run-queue';
import { RunRecorder } from './run-recorder';
import { timeOrderedUuid } from './time-ordered-id';
import { reusableOutputs, reusedArtifacts, reviveOutputs } from './run-reuse';
import { FINISHED, type RunError, type RunRecord, type RunStore } from './store/runs';

export interface RunRequest {
  workflow: unknown;
  /** `workflow` checked once (Engine.compile), when the caller keeps one: the run's graph is made from it. */
  compiled?: CompiledWorkflow;
  inputs: RunInputs;
  workflowId: string | null;
  workflowVersion: number | null;
  source: string;
}

/** A run just queued: its id, and its record once it has finished (a quick run may have finished already). */
export interface SubmittedRun {
  id: string;
  done: Promise<RunRecord>;
}

/** A place in the queue, taken before any work on a request: `submit` uses it, `release` gives it back unused (idempotent). */
export interface Admission {
  submit(request: RunRequest): Promise<SubmittedRun>;
  release(): void;
}

/**
 * Hears every run message in its run's order, once sqlite has it (a run is recorded before anyone hears of it, and
 * its end before its waiters wake), with the run's live record (which may be ahead of the message: the run goes
 * on while its messages wait for their commit); a promise is waited for.
 */
export type RunListener = (message: RunMessage, run: RunRecord) => void | Promise<void>;

export interface RunManagerOptions {
  engine: Engine;
  runs: RunStore;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Builds the queue that will execute this manager's runs (here, with `host.process`, or on workers). */
  queue: (host: RunHost) => RunQueue;
}

export class RunManager {
  readonly queue: RunQueue;
  private readonly live = new Map<string, LiveRun>();
  /** Replaced, never changed in place: a message goes to the listeners there were when its delivery began. */
  private listeners: readonly RunListener[] = [];
  /** Places admitted but not yet in the queue. */
  private reserved = 0;
  /** Ends of runs executed here that are still being recorded (outside their queue slot): `close` waits for them. */
  private readonly recording = new Set<Promise<void>>();
  private readonly recorder: RunRecorder;

  constructor(private readonly options: RunManagerOptions) {
    this.queue = options.queue({
      process: (job, signal) => this.process(job, signal),
      report: (runId, event) => this.report(runId, event),
      end: (runId, end) => this.end(runId, end),
    });
    this.recorder = new RunRecorder(options.runs, options.logger);
  }

  /** Connects the queue (a no-op in-process); before the first run. */
  open(): Promise<void> {
    return this.queue.open();
  }

  onMessage(listener: RunListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => void (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  /** Takes a place in the queue, or throws QueueFullError / QueueClosedError / QueueUnavailableError: call it before any other work. */
  admit(): Admission {
    this.queue.assertRoom(this.reserved);
    this.reserved++;
    // Held until used or given back; once `submit` has begun, only its end gives the place back.
    let state: 'held' | 'submitting' | 'done' = 'held';
    const giveBack = () => {
      if (state !== 'done') this.reserved--;
      state = 'done';
    };
    return {
      submit: (request) => {
        if (state !== 'held') return Promise.reject(new Error('an admission is used once'));
        state = 'submitting';
        // The place is the queue's once the run is in it, before its record's commit: held until then too, the
        // run counted twice, and a burst arriving during commits was refused with the queue half empty.
        return this.submit(request, giveBack).finally(giveBack);
      },
      release: () => {
        if (state === 'held') giveBack();
      },
    };
  }

  /** Whether `admit` would refuse now (for refusing at the lowest cost, before a request reaches the app). */
  full(): boolean {
    try {
      this.queue.assertRoom(this.reserved);
      return false;
    } catch {
      return true;
    }
  }

  /** At start-up: queues again, in their order, the runs a stopped process left queued, and with `resume` the ones it was running. */
  async restore(resume: boolean): Promise<{ queued: number; interrupted: number }> {
    const { queued, interrupted } = await this.options.runs.recover();
    const resumed = resume ? interrupted : [];
    const again = [...resumed, ...queued].sort((a, b) => a.createdAt - b.createdAt);
    for (const record of again) {
      try {
        await this.requeue(record);
      } catch (err) {
        const error = { node: null, message: `the run could not be queued again: ${(err as Error).message}` };
        await this.options.runs.save({ ...record, status: 'failed', error, finishedAt: Date.now() });
      }
    }
    return { queued: queued.length, interrupted: interrupted.length - resumed.length };
  }

  /** Queues an interrupted run again; its finished nodes' outputs are used, not computed again. */
  async resume(runId: string): Promise<void> {
    const admission = this.admit();
    try {
      const notInterrupted = (status: string) => new RunStateError(`run '${runId}' is ${status}; only an interrupted run can be resumed`);
      if (this.live.has(runId)) throw notInterrupted(this.live.get(runId)!.record.status);
      const stored = await this.options.runs.get(runId);
      if (!stored) throw new UnknownRunError(runId);
      // A second resume of the same run may have come in meanwhile.
      if (this.live.has(runId)) throw notInterrupted(this.live.get(runId)!.record.status);
      if (stored.status !== 'interrupted') throw notInterrupted(stored.status);
      await this.requeue(stored);
    } finally {
      admission.release();
    }
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

  /** `cancelled`: it had not started; `cancelling`: it stops at its next cancellation point (run:finished follows). */
  async cancel(runId: string): Promise<'cancelled' | 'cancelling'> {
    const live = this.live.get(runId);
    if (!live) {
      if (await this.options.runs.get(runId)) throw new RunStateError(`run '${runId}' has already finished`);
      throw new UnknownRunError(runId);
    }
    if ((await this.queue.cancel(runId)) === 'waiting') {
      await this.complete(live, { status: 'cancelled' });
      return 'cancelled';
    }
    return 'cancelling';
  }

  /** Graceful shutdown: no new runs; running ones get `timeoutMs` to finish, then end interrupted. Waiting ones stay queued for the next start. */
  async close(timeoutMs: number): Promise<void> {
    const neverStarted = await this.queue.close(timeoutMs);
    await Promise.all(this.recording);
    for (const runId of neverStarted) this.live.delete(runId);
    if (neverStarted.length > 0) this.options.logger.info({ queued: neverStarted.length }, 'queued runs stay queued for the next start');
  }

  /** Validates and queues a new run (`queued` is called once it is in the queue); throws the engine's WorkflowError when it is invalid. */
  private async submit(request: RunRequest, queued: () => void): Promise<SubmittedRun> {
    const graph = request.compiled ? request.compiled.graph(request.inputs) : this.options.engine.prepare(request.workflow, request.inputs);
    const record: RunRecord = {
      id: timeOrderedUuid(),
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
    const job = { runId: record.id, workflow: record.workflow, inputs: record.inputs, artifacts: referencedArtifacts(graph), reuse: {} };
    const live = await this.enqueue(record, graph, job, queued);
    return { id: record.id, done: live.done };
  }

  /** Queues a stored run again (restored, resumed): what its finished nodes made is reused. */
  private async requeue(stored: RunRecord): Promise<void> {
    const graph = this.options.engine.prepare(stored.workflow, stored.inputs);
    const reuse = reusableOutputs(graph, stored.nodes);
    const record: RunRecord = { ...stored, status: 'queued', startedAt: null, finishedAt: null, ms: null, error: null, outputs: {} };
    const artifacts = [...new Set([...referencedArtifacts(graph), ...reusedArtifacts(reuse)])];
    await this.enqueue(record, graph, { runId: stored.id, workflow: stored.workflow, inputs: stored.inputs, artifacts, reuse });
  }

  /**
   * Records the run as queued and hands its job to the queue at once: nobody hears of the run before its record
   * is committed, but the run need not wait for that commit, so one that ends first (an echo trigger call) has
   * its queued record and its end in one commit. A record that cannot be written refuses the run: it is taken
   * out of the queue (or stopped), nobody hears of it and nothing is left.
   */
  private async enqueue(record: RunRecord, graph: Graph, job: RunJob, queued?: () => void): Promise<LiveRun> {
    const live = new LiveRun(record, graph, job, (err) => this.options.logger.warn({ runId: record.id, err }, 'run message dropped'));
    this.live.set(record.id, live);
    // Handled at once: the write may fail while the queue is still being asked.
    const refusal = this.post(live, () => ({ type: 'run:queued', runId: record.id, workflowId: record.workflowId, at: record.createdAt })).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    try {
      await this.queue.add(job);
    } catch (err) {
      // The queue refused it after all (closed meanwhile, Redis away): the run ends here, and says why.
      await this.complete(live, { status: 'failed', error: { node: null, message: (err as Error).message } });
      throw err;
    }
    queued?.();
    const refused = await refusal;
    if (refused) {
      this.live.delete(record.id);
      await this.queue.cancel(record.id);
      throw refused.error;
    }
    return live;
  }

  private async process(job: RunJob, signal: RunSignal): Promise<void> {
    const live = this.live.get(job.runId);
    if (!live) return; // refused meanwhile: its record could not be written
    const { runId } = job;
    let result: RunResult | undefined;
    let error: RunError | null = null;
    try {
      const reuse = await reviveOutputs(job.reuse, this.options.artifacts, (nodeId, err) =>
        this.options.logger.warn({ runId, nodeId, err: err.message }, 'a finished node of the interrupted run runs again'),
      );
      result = await this.options.engine.runGraph(live.graph, { runId, signal, reuse, onEvent: (event) => this.relay(live, event) });
    } catch (err) {
      error = { node: null, message: (err as Error).message };
    }
    const end: RunEnd =
      signal.reason instanceof ShutdownAbort
        ? { status: 'interrupted', error: { node: null, message: signal.reason.message }, result }
        : { status: result?.status ?? 'failed', error: result?.error ?? error, result };
    // The queue's slot bounds execution only: recording the end (outputs as JSON, a commit) goes on outside it,
    // so the next run starts meanwhile and the ends of many runs share a commit. Waiters still hear of a run
    // only once its end is committed.
    const recorded: Promise<void> = this.end(runId, end)
      .catch((err) => this.options.logger.error({ runId, err }, 'could not record the end of a run'))
      .finally(() => this.recording.delete(recorded));
    this.recording.add(recorded);
  }

  /** An event of a run executed elsewhere; one this server does not follow (finished, or never its own) is ignored. */
  private report(runId: string, event: RunEvent): void {
    const live = this.live.get(runId);
    if (live) this.relay(live, event);
  }

  /** Ends a run once its earlier messages are out. */
  private async end(runId: string, end: RunEnd): Promise<void> {
    const live = this.live.get(runId);
    if (!live) return;
    await live.steps.settled();
    await this.complete(live, end);
  }

  /** An engine event, handled as `post` handles a message, for nobody to wait on: no promise is made for it. */
  private relay(live: LiveRun, event: RunEvent): void {
    const announce = (message: RunMessage | undefined) => {
      const hear = this.recorded(live, message);
      if (hear) live.heard.push(hear);
    };
    live.steps.push(() => {
      const message = applyEvent(live.record, event, this.options.artifacts);
      return message instanceof Promise ? message.then(announce) : announce(message);
    });
  }

  /**
   * Builds a message behind the run's earlier ones and records it, then has the listeners hear it once its write
   * is committed. Writes start as messages are built, not once the write before is committed: the messages of a
   * short run share one commit. The promise settles once the listeners have heard it, and fails when recording
   * or a listener does.
   */
  private post(live: LiveRun, build: () => RunMessage | undefined | Promise<RunMessage | undefined>): Promise<void> {
    let heard: Promise<void> | undefined;
    const announce = (message: RunMessage | undefined) => {
      const hear = this.recorded(live, message);
      heard = hear && live.heard.add(hear);
    };
    const built = live.steps.add(() => {
      const message = build();
      return message instanceof Promise ? message.then(announce) : announce(message);
    });
    // A message built at once (most are) has its listeners' promise now; a later one, once built.
    return heard ?? built.then(() => heard);
  }

  /**
   * Records a message and gives the step that has the listeners hear it, once its write (if it waits for one)
   * is committed, to be queued behind the run's earlier messages; nobody hears a message whose write failed,
   * nor any after it. Undefined: nothing to hear.
   */
  private recorded(live: LiveRun, message: RunMessage | undefined): (() => void | Promise<void>) | undefined {
    // A refused run is not written again: its row would come back.
    if (!message || live.refused !== undefined) return undefined;
    const written = this.recorder.record(message, live.record);
    const hear = () => (live.refused === undefined ? deliver(this.listeners, message, live.record) : undefined);
    if (!written) return hear;
    // Its failure is handled by the hearing step, which may start only once earlier messages are heard.
    written.catch(() => undefined);
    return () =>
      written.then(hear, (err: unknown) => {
        live.refused ??= err;
        throw err;
      });
  }

  /** Records the end of a run, tells listeners, wakes waiters and forgets the live state. */
  private async complete(live: LiveRun, end: RunEnd): Promise<void> {
    const { record } = live;
    if (FINISHED.has(record.status)) return;
    await applyEnd(record, end, this.options.artifacts);
    await this.post(live, () => finishedMessage(record)).catch(() => undefined);
    await live.steps.settled();
    await live.heard.settled();
    this.live.delete(record.id);
    live.resolve();
    if (live.refused !== undefined) return; // nobody heard of it: its refusal is its caller's error
    const level = record.status === 'failed' ? 'warn' : 'info';
    this.options.logger[level](
      { runId: record.id, workflowId: record.workflowId, source: record.source, status: record.status, ms: record.ms, error: record.error?.message },
      'run finished',
    );
  }
}

/** Hands a message to each listener in turn, waiting only for those that return a promise (most return at once). */
function deliver(listeners: readonly RunListener[], message: RunMessage | undefined, run: RunRecord, from = 0): void | Promise<void> {
  if (!message) return;
  for (let i = from; i < listeners.length; i++) {
    const pending = listeners[i](message, run);
    if (pending) return pending.then(() => deliver(listeners, message, run, i + 1));
  }
}
