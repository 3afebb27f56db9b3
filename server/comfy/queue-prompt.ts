// `POST /prompt`: an API-format prompt checked (every problem in `node_errors` under its node id, as
// ComfyUI answers) and queued as an ordinary picflow run with source `comfy-api`.
import { z } from 'zod';
import { catalogPorts, fromApiFormat, isRecord } from '../../engine/api-format';
import type { Engine } from '../../engine/engine';
import type { Workflow, WorkflowIssue } from '../../engine/contract';
import type { RunManager } from '../run-manager';
import type { PromptBook } from './prompts';
import type { ComfyRelay } from './relay';
import { MAX_CLIENT_ID_LENGTH } from './socket';

export interface ComfyError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeError {
  errors: ComfyError[];
  dependent_outputs: string[];
  class_type: string | null;
}

export type PromptAnswer =
  | { ok: true; body: { prompt_id: string; number: number; node_errors: Record<string, NodeError> } }
  | { ok: false; body: { error: ComfyError; node_errors: Record<string, NodeError> } };

/** A string that holds a number, as that number (anything else as it is, for zod to judge). */
const fromNumericString = (value: unknown) => (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value);

/** ComfyUI reads `number` with Python's `float()`: a number, or a string of one. */
const queueNumber = z.preprocess(fromNumericString, z.number());

const promptBody = z.looseObject({
  prompt: z.unknown().optional(),
  // null, as ComfyUI takes it, is no client.
  client_id: z.string().max(MAX_CLIENT_ID_LENGTH).nullish(),
  prompt_id: z.string().regex(/^[\w.-]{1,128}$/, 'use 1 to 128 letters, digits, _, . and -').optional(),
  number: queueNumber.optional(),
  front: z.boolean().optional(),
  extra_data: z.record(z.string(), z.unknown()).optional(),
  partial_execution_targets: z.array(z.string()).optional(),
});

/** `extra_data` larger than this is not kept for `/history` (only its `client_id`). */
const KEPT_EXTRA_DATA_BYTES = 64 * 1024;

const problem = (type: string, message: string, details = message): ComfyError => ({ type, message, details, extra_info: {} });

const taken = (promptId: string): PromptAnswer => ({ ok: false, body: { error: problem('invalid_prompt', `prompt_id '${promptId}' is already taken`), node_errors: {} } });

/** The client's node of this id, when it is an object. */
function clientNode(prompt: unknown, nodeId: string): Record<string, unknown> | undefined {
  const node = isRecord(prompt) && Object.hasOwn(prompt, nodeId) ? prompt[nodeId] : undefined;
  return isRecord(node) ? node : undefined;
}

/** Node id → class_type as the client wrote them (also for nodes the conversion refused, so their errors name it). */
function classTypes(prompt: unknown): Map<string, string> {
  const types = new Map<string, string>();
  for (const nodeId of isRecord(prompt) ? Object.keys(prompt) : []) {
    const type = clientNode(prompt, nodeId)?.class_type;
    if (typeof type === 'string') types.set(nodeId, type);
  }
  return types;
}

/** Whether the client's prompt gives this input of this node at all. */
function givesInput(prompt: unknown, nodeId: string, input: string): boolean {
  const inputs = clientNode(prompt, nodeId)?.inputs;
  return isRecord(inputs) && Object.hasOwn(inputs, input);
}

/**
 * One node's validation problem as ComfyUI reports it: an input left out is `required_input_missing`, a bad
 * constant `invalid_input_type`, a bad link `bad_linked_input` (each with the input's name); the rest is about
 * the node itself (`invalid_prompt`).
 */
function nodeError(issue: WorkflowIssue, nodeId: string, prompt: unknown): ComfyError {
  const details = `${issue.field}: ${issue.message}`;
  const [, kind, input] = /^(params|inputs)\.(.+)$/.exec(issue.field) ?? [];
  if (input === undefined) return { type: 'invalid_prompt', message: issue.message, details, extra_info: {} };
  const type = !givesInput(prompt, nodeId, input) ? 'required_input_missing' : kind === 'params' ? 'invalid_input_type' : 'bad_linked_input';
  return { type, message: issue.message, details, extra_info: { input_name: input } };
}

/** The `/ws` client that hears a prompt: `client_id`, else the one in `extra_data`, where ComfyUI's executor reads it. */
function clientIdOf(body: { client_id?: string | null; extra_data?: Record<string, unknown> }): string | null {
  const inExtra = body.extra_data?.client_id;
  return body.client_id ?? (typeof inExtra === 'string' ? inExtra : null);
}

/** The output nodes each node feeds (itself included when it is one), for `dependent_outputs`. */
function dependentOutputs(workflow: Workflow, outputs: string[]): Map<string, string[]> {
  const feeds = new Map<string, string[]>();
  for (const output of outputs) {
    const seen = new Set([output]);
    const stack = [output];
    while (stack.length > 0) {
      const id = stack.pop()!;
      feeds.set(id, [...(feeds.get(id) ?? []), output]);
      // A source the conversion refused has no node here, but it too feeds this output.
      for (const [from] of Object.values(workflow.nodes[id]?.inputs ?? {})) {
        if (!seen.has(from)) {
          seen.add(from);
          stack.push(from);
        }
      }
    }
  }
  return feeds;
}

type PromptRequest = z.output<typeof promptBody>;

export class PromptQueue {
  /** Client-chosen prompt ids of submissions under way, so that two at once cannot both take one. */
  private readonly claimed = new Set<string>();

  constructor(
    private readonly engine: Engine,
    private readonly manager: RunManager,
    private readonly book: PromptBook,
    private readonly relay: ComfyRelay,
  ) {}

  async queue(raw: unknown): Promise<PromptAnswer> {
    const parsed = promptBody.safeParse(raw);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('\n');
      return { ok: false, body: { error: problem('invalid_prompt', 'Invalid request', details), node_errors: {} } };
    }
    const body = parsed.data;
    if (body.prompt === undefined) return { ok: false, body: { error: problem('no_prompt', 'No prompt provided'), node_errors: {} } };
    const promptId = body.prompt_id;
    if (promptId === undefined) return this.checkAndSubmit(body);
    // Claimed before the first await: the id is in the book only once its run is submitted.
    if (this.claimed.has(promptId) || this.book.has(promptId)) return taken(promptId);
    this.claimed.add(promptId);
    try {
      return (await this.manager.get(promptId)) ? taken(promptId) : await this.checkAndSubmit(body);
    } finally {
      this.claimed.delete(promptId);
    }
  }

  private async checkAndSubmit(body: PromptRequest): Promise<PromptAnswer> {
    const { workflow: converted, issues, typeOnly } = fromApiFormat(body.prompt, catalogPorts(this.engine.catalog));
    let workflow = converted;
    const types = classTypes(body.prompt);
    if (body.partial_execution_targets) {
      const targets = new Set(body.partial_execution_targets);
      for (const [id, node] of Object.entries(workflow.nodes)) {
        if (this.engine.catalog.get(node.type)?.output && !targets.has(id)) delete workflow.nodes[id];
      }
    }
    let outputs = Object.keys(workflow.nodes).filter((id) => this.engine.catalog.get(workflow.nodes[id].type)?.output);
    // A field the conversion already faulted (say, a link to an output out of range) is reported once, and so
    // is a node it kept by its type alone (validation would find its params and links missing).
    const faulted = new Set(issues.map((i) => `${i.node}\0${i.field}`));
    const unread = new Set(typeOnly);
    const repeats = (i: WorkflowIssue) => faulted.has(`${i.node}\0${i.field}`) || (i.node !== null && unread.has(i.node));
    issues.push(...this.engine.validate(workflow).errors.filter((i) => !repeats(i)));
    let nodeErrors: Record<string, NodeError> = {};
    if (issues.length > 0) {
      const feeds = dependentOutputs(workflow, outputs);
      const refused = refusal(issues, body.prompt, types, feeds);
      // As ComfyUI does: the outputs that passed run, and the answer lists what kept the others out.
      const partial = this.validOutputsOnly(issues, workflow, outputs, feeds);
      if (!partial) return { ok: false, body: refused };
      ({ workflow, outputs } = partial);
      nodeErrors = refused.node_errors;
    }

    const number = body.number ?? Date.now();
    const clientId = clientIdOf(body);
    const extra = { ...body.extra_data, ...(typeof body.client_id === 'string' && { client_id: body.client_id }) };
    const extraData = JSON.stringify(extra).length <= KEPT_EXTRA_DATA_BYTES ? extra : clientId !== null ? { client_id: clientId } : {};
    // The run enters the book before its submission settles, so its first messages find their client.
    const promptId = await this.relay.whileSubmitting(
      (async () => {
        const { id: runId } = await this.manager.admit().submit({ workflow, inputs: {}, workflowId: null, workflowVersion: null, source: 'comfy-api' });
        const promptId = body.prompt_id ?? runId;
        this.book.add({ promptId, runId, number, types, extraData, clientId, outputs });
        return promptId;
      })(),
    );
    return { ok: true, body: { prompt_id: promptId, number, node_errors: nodeErrors } };
  }

  /**
   * The workflow cut down to the outputs no problem reaches (and what they need), when there are any and it
   * validates; undefined when the prompt must be refused whole: a problem of the workflow as such, or an unknown
   * node type (ComfyUI refuses those before looking at outputs).
   */
  private validOutputsOnly(
    issues: WorkflowIssue[],
    workflow: Workflow,
    outputs: string[],
    feeds: ReadonlyMap<string, string[]>,
  ): { workflow: Workflow; outputs: string[] } | undefined {
    if (issues.some((issue) => issue.node === null || issue.field === 'type')) return undefined;
    const failed = new Set(issues.flatMap((issue) => feeds.get(issue.node!) ?? []));
    const passed = outputs.filter((id) => !failed.has(id));
    if (passed.length === 0) return undefined;
    const nodes: Workflow['nodes'] = Object.create(null);
    const stack = [...passed];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (Object.hasOwn(nodes, id) || !Object.hasOwn(workflow.nodes, id)) continue;
      nodes[id] = workflow.nodes[id];
      for (const [from] of Object.values(workflow.nodes[id].inputs ?? {})) stack.push(from);
    }
    const kept = { ...workflow, nodes };
    return this.engine.validate(kept).errors.length === 0 ? { workflow: kept, outputs: passed } : undefined;
  }
}

/** The 400 body: each problem under its node id (with the node's type and the outputs it feeds), the rest in `error`. */
function refusal(
  issues: WorkflowIssue[],
  prompt: unknown,
  types: ReadonlyMap<string, string>,
  feeds: ReadonlyMap<string, string[]>,
): Extract<PromptAnswer, { ok: false }>['body'] {
  const nodeErrors: Record<string, NodeError> = Object.create(null);
  const lines: string[] = [];
  for (const issue of issues) {
    lines.push(issue.node === null ? `${issue.field}: ${issue.message}` : `node '${issue.node}' ${issue.field}: ${issue.message}`);
    if (issue.node === null) continue;
    const entry = (nodeErrors[issue.node] ??= { errors: [], dependent_outputs: feeds.get(issue.node) ?? [], class_type: types.get(issue.node) ?? null });
    entry.errors.push(nodeError(issue, issue.node, prompt));
  }
  const noOutputs = issues.length === 1 && issues[0].node === null && issues[0].field === 'nodes';
  const error = noOutputs
    ? problem('prompt_no_outputs', 'Prompt has no outputs', issues[0].message)
    : problem('prompt_outputs_failed_validation', 'Prompt outputs failed validation', lines.join('\n'));
  return { error, node_errors: nodeErrors };
}
