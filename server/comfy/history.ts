// Runs in the shapes of ComfyUI's `/history` and `/queue`: queue items, node outputs (images by file
// name), and the status with its messages. Built from run records, so a restart loses nothing the
// run store kept.
import { catalogPorts, detectFormat, toApiFormat, type ApiPrompt, type PortsOf } from '../../engine/api-format';
import type { OutputKind, Workflow } from '../../engine/contract';
import type { Catalog } from '../../engine/node';
import { ARTIFACT_ID } from '../artifacts';
import { isImageRef, type JsonValue } from '../json-values';
import { FINISHED, type RunRecord } from '../store/runs';
import type { ComfyPrompt } from './prompts';

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
export type QueueItem = [number, string, ApiPrompt, Record<string, unknown>, string[]];

export interface ImageFile {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp' | 'input';
}

/** What one output node showed: its images by file name, and other values by kind. */
export interface NodeOutput {
  images?: ImageFile[];
  text?: string[];
  number?: number[];
  boolean?: boolean[];
}

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, NodeOutput>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta: Record<string, { node_id: string; display_node: string }>;
}

/** Run images are PNG files named by their artifact id; `/view` takes the name back to the id. */
export function imageFileName(artifact: string): string {
  return `${artifact}.png`;
}

/** The artifact id of a file name from `imageFileName` or `/upload/image` (the id with or without an extension). */
export function artifactOfFileName(filename: string): string | undefined {
  const id = filename.replace(/\.[A-Za-z]{3,4}$/, '');
  return ARTIFACT_ID.test(id) ? id : undefined;
}

/** The items of a value, lists flattened, in order. */
export function flatten(value: JsonValue): Exclude<JsonValue, JsonValue[]>[] {
  const items: Exclude<JsonValue, JsonValue[]>[] = [];
  const stack: JsonValue[] = [value];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (Array.isArray(item)) stack.push(...[...item].reverse());
    else items.push(item);
  }
  return items;
}

/** An output node's value as ComfyUI's `executed` output: images saved (`output`) or shown only (`temp`). */
export function nodeOutput(kind: OutputKind, value: JsonValue): NodeOutput {
  const output: NodeOutput = {};
  const type = kind === 'preview' ? 'temp' : 'output';
  for (const item of flatten(value)) {
    if (isImageRef(item)) (output.images ??= []).push({ filename: imageFileName(item.artifact), subfolder: '', type });
    else if (typeof item === 'string') (output.text ??= []).push(item);
    else if (typeof item === 'number') (output.number ??= []).push(item);
    else if (typeof item === 'boolean') (output.boolean ??= []).push(item);
  }
  return output;
}

/** Builds queue items and history entries for runs, whether or not they were queued through the ComfyUI API. */
export class ComfyHistory {
  private readonly ports: PortsOf;

  constructor(private readonly catalog: Catalog) {
    this.ports = catalogPorts(catalog);
  }

  /** The queue item of a run: its workflow in API format, with what the client queued it with. */
  queueItem(run: RunRecord, queued: ComfyPrompt | undefined): QueueItem {
    const prompt: ApiPrompt = detectFormat(run.workflow) === 'v1' ? toApiFormat(run.workflow as Workflow, this.ports).prompt : {};
    if (queued) return [queued.number, queued.promptId, prompt, queued.extraData, queued.outputs];
    return [run.createdAt, run.id, prompt, {}, this.outputNodes(prompt)];
  }

  /** The output nodes of an API-format prompt (`outputs_to_execute`). */
  outputNodes(prompt: ApiPrompt): string[] {
    return Object.keys(prompt).filter((id) => this.catalog.get(prompt[id].class_type)?.output !== undefined);
  }

  /** The history entry of a run that ran; undefined while it is queued or running, or when it never started. */
  entry(run: RunRecord, queued: ComfyPrompt | undefined): HistoryEntry | undefined {
    if (!FINISHED.has(run.status) || run.startedAt === null) return undefined;
    const promptId = queued?.promptId ?? run.id;
    const outputs: Record<string, NodeOutput> = {};
    const meta: HistoryEntry['meta'] = {};
    for (const output of Object.values(run.outputs)) {
      outputs[output.node] = nodeOutput(output.kind, output.value);
      meta[output.node] = { node_id: output.node, display_node: output.node };
    }
    const at = (time: number | null) => ({ prompt_id: promptId, timestamp: time ?? run.createdAt });
    const cached = Object.keys(run.nodes).filter((id) => run.nodes[id].cached);
    const messages: HistoryEntry['status']['messages'] = [
      ['execution_start', at(run.startedAt)],
      ['execution_cached', { nodes: cached, ...at(run.startedAt) }],
    ];
    const item = this.queueItem(run, queued);
    const succeeded = run.status === 'succeeded';
    const executed = Object.keys(run.nodes).filter((id) => run.nodes[id].status === 'succeeded' || run.nodes[id].cached);
    const end = { status: run.status, error: run.error, executed, executing: cutShort(run), at: run.finishedAt ?? run.createdAt };
    const typeOf = (id: string) => (Object.hasOwn(item[2], id) ? item[2][id].class_type : undefined);
    messages.push(succeeded ? ['execution_success', at(run.finishedAt)] : endMessage(end, typeOf, promptId));
    return { prompt: item, outputs, status: { status_str: succeeded ? 'success' : 'error', completed: succeeded, messages }, meta };
  }
}

/** How a run that did not succeed ended, as its messages tell it. */
export interface RunEnd {
  status: RunRecord['status'];
  error: RunRecord['error'];
  /** Nodes that finished or came from the cache. */
  executed: string[];
  /** The node executing when the run stopped (the last one started, when several were), if any. */
  executing: string | null;
  at: number;
}

/** The node a stopped run cut short: the last one started of those it cancelled while they ran. */
function cutShort(run: RunRecord): string | null {
  let node: string | null = null;
  let startedAt = -Infinity;
  for (const [id, state] of Object.entries(run.nodes)) {
    if (state.status === 'cancelled' && state.startedAt !== undefined && state.startedAt >= startedAt) [node, startedAt] = [id, state.startedAt];
  }
  return node;
}

/**
 * `execution_error` (failed) or `execution_interrupted` (cancelled, interrupted) for a run that did not succeed,
 * naming the node that failed or, as ComfyUI does, the one executing when it was stopped.
 */
export function endMessage(end: RunEnd, typeOf: (nodeId: string) => string | undefined, promptId: string): [string, Record<string, unknown>] {
  const nodeId = end.error?.node ?? end.executing;
  const common = {
    prompt_id: promptId,
    node_id: nodeId,
    node_type: (nodeId !== null && typeOf(nodeId)) || null,
    executed: end.executed,
    timestamp: end.at,
  };
  if (end.status !== 'failed') return ['execution_interrupted', common];
  return [
    'execution_error',
    {
      ...common,
      exception_message: end.error?.message ?? 'the run failed',
      exception_type: 'picflow.RunError',
      traceback: [],
      current_inputs: {},
      current_outputs: [],
    },
  ];
}
