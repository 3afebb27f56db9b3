/**
 * A queued or running run as clients see it now: its record, brought up to date by the run's engine
 * events in order, and the messages (RunMessage) those events become for listeners.
 */
import type { RunMessage } from '../engine/contract';
import type { RunEvent } from '../engine/events';
import type { Graph } from '../engine/graph';
import { toJsonOutputs, toJsonPorts, type ImageSink, type JsonValue } from './json-values';
import { OrderedSteps } from './ordered-steps';
import type { RunEnd, RunJob } from './run-queue';
import type { NodeState, RunRecord } from './store/runs';

export class LiveRun {
  /** Keeps the run's state changes and messages in the order of its events (each message's write starts here). */
  readonly steps: OrderedSteps;
  /** Listeners hear the run's messages in the same order, each once its write is committed. */
  readonly heard: OrderedSteps;
  /** Why a message of the run could not be recorded: then nobody hears it, nor anything after it. */
  refused: unknown;
  readonly done: Promise<RunRecord>;
  private resolveDone!: (record: RunRecord) => void;

  constructor(
    readonly record: RunRecord,
    readonly graph: Graph,
    readonly job: RunJob,
    onStepError: (err: unknown) => void,
  ) {
    this.steps = new OrderedSteps(onStepError);
    this.heard = new OrderedSteps(onStepError);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  resolve(): void {
    this.resolveDone(this.record);
  }
}

/**
 * Applies an engine event to the record; returns the message it becomes (none for the engine's run:finished,
 * which `applyEnd` replaces). At once, without a promise, unless a node's outputs hold images to store.
 */
export function applyEvent(record: RunRecord, event: RunEvent, images: ImageSink): RunMessage | undefined | Promise<RunMessage | undefined> {
  const nodes = record.nodes;
  switch (event.type) {
    case 'run:started':
      Object.assign(record, { status: 'running', startedAt: event.at });
      record.nodes = Object.fromEntries(event.nodes.map((id) => [id, { status: 'pending', cached: false } satisfies NodeState]));
      return { type: 'run:started', runId: event.runId, nodes: event.nodes, at: event.at };
    case 'node:started':
      Object.assign(nodes[event.nodeId], { status: 'running', startedAt: event.at });
      return event;
    case 'node:progress':
      nodes[event.nodeId].progress = { step: event.step, total: event.total };
      return event;
    case 'node:cached':
    case 'node:finished': {
      const outputs = toJsonPorts(event.outputs, images);
      return outputs instanceof Promise ? outputs.then((json) => nodeDone(record, event, json)) : nodeDone(record, event, outputs);
    }
    case 'node:error':
      Object.assign(nodes[event.nodeId], { status: 'failed', error: event.message });
      return event;
    case 'run:finished':
      return undefined;
  }
}

function nodeDone(record: RunRecord, event: Extract<RunEvent, { type: 'node:cached' | 'node:finished' }>, outputs: Record<string, JsonValue>): RunMessage {
  const cached = event.type === 'node:cached';
  // Written out, not `{ progress, ...state }`: object rest was a tenth of a busy trigger server's run bookkeeping.
  const { startedAt } = record.nodes[event.nodeId];
  const state: NodeState = { status: cached ? 'cached' : 'succeeded', cached };
  if (startedAt !== undefined) state.startedAt = startedAt;
  state.outputs = outputs;
  state.ms = 'ms' in event ? event.ms : 0;
  record.nodes[event.nodeId] = state;
  return { ...event, outputs };
}

/** Writes how the run ended into its record (node records and outputs from the engine's result when there is one). */
export async function applyEnd(record: RunRecord, end: RunEnd, images: ImageSink): Promise<void> {
  const { result } = end;
  record.status = end.status;
  record.error = end.error ?? null;
  record.finishedAt = Date.now();
  record.ms = result?.ms ?? (record.startedAt === null ? null : record.finishedAt - record.startedAt);
  if (!result) return stopUnfinishedNodes(record);
  for (const [id, node] of Object.entries(result.nodes)) {
    // What the events said of the node, brought up to date by the result; a finished node has no progress.
    const before: NodeState | undefined = record.nodes[id];
    const state: NodeState = { status: node.status, cached: node.status === 'cached' };
    const startedAt = node.startedAt ?? before?.startedAt;
    if (startedAt !== undefined) state.startedAt = startedAt;
    if (before?.outputs !== undefined) state.outputs = before.outputs;
    const ms = node.ms ?? before?.ms;
    if (ms !== undefined) state.ms = ms;
    const error = node.error ?? before?.error;
    if (error !== undefined) state.error = error;
    record.nodes[id] = state;
  }
  try {
    record.outputs = await toJsonOutputs(result.outputs, images);
  } catch (err) {
    record.status = 'failed';
    record.error = { node: null, message: `the run's outputs could not be stored: ${(err as Error).message}` };
  }
}

/**
 * A run that ended with no result from its engine (its worker or its job lost): the nodes its events left
 * running or pending did not finish, and are recorded cancelled, as at a restart (RunStore.recover).
 */
function stopUnfinishedNodes(record: RunRecord): void {
  for (const state of Object.values(record.nodes)) {
    if (state.status !== 'running' && state.status !== 'pending') continue;
    state.status = 'cancelled';
    delete state.progress;
  }
}

export function finishedMessage(record: RunRecord): RunMessage {
  return { type: 'run:finished', runId: record.id, status: record.status, ms: record.ms, error: record.error, outputs: record.outputs };
}
