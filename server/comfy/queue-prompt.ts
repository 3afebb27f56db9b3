// `POST /prompt`: an API-format prompt checked (every problem in `node_errors` under its node id, as
// ComfyUI answers) and queued as an ordinary picflow run with source `comfy-api`.
import { z } from 'zod';
import { catalogPorts, fromApiFormat } from '../../engine/api-format';
import type { Engine } from '../../engine/engine';
import type { Workflow, WorkflowIssue } from '../../engine/contract';
import type { RunManager } from '../run-manager';
import type { PromptBook } from './prompts';
import type { ComfyRelay } from './relay';

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

const promptBody = z.looseObject({
  prompt: z.unknown().optional(),
  client_id: z.string().max(128).optional(),
  prompt_id: z.string().regex(/^[\w.-]{1,128}$/, 'use 1 to 128 letters, digits, _, . and -').optional(),
  number: z.number().optional(),
  front: z.boolean().optional(),
  extra_data: z.record(z.string(), z.unknown()).optional(),
  partial_execution_targets: z.array(z.string()).optional(),
});

/** `extra_data` larger than this is not kept for `/history` (only its `client_id`). */
const KEPT_EXTRA_DATA_BYTES = 64 * 1024;

const problem = (type: string, message: string, details = ''): ComfyError => ({ type, message, details, extra_info: {} });

/** The kind of a validation problem, by the field it is about. */
function errorType(field: string): string {
  if (field === 'type' || field === 'class_type') return 'invalid_prompt';
  if (field.startsWith('params.')) return 'invalid_input_type';
  if (field.startsWith('inputs.')) return 'bad_linked_input';
  return 'invalid_prompt';
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
      for (const [from] of Object.values(workflow.nodes[id]?.inputs ?? {})) {
        if (Object.hasOwn(workflow.nodes, from) && !seen.has(from)) {
          seen.add(from);
          stack.push(from);
        }
      }
    }
  }
  return feeds;
}

export class PromptQueue {
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
    if (body.prompt_id !== undefined && (this.book.has(body.prompt_id) || (await this.manager.get(body.prompt_id)))) {
      return { ok: false, body: { error: problem('invalid_prompt', `prompt_id '${body.prompt_id}' is already taken`), node_errors: {} } };
    }

    const { workflow, issues } = fromApiFormat(body.prompt, catalogPorts(this.engine.catalog));
    const types = new Map(Object.entries(workflow.nodes).map(([id, node]) => [id, node.type]));
    if (body.partial_execution_targets) {
      const targets = new Set(body.partial_execution_targets);
      for (const [id, node] of Object.entries(workflow.nodes)) {
        if (this.engine.catalog.get(node.type)?.output && !targets.has(id)) delete workflow.nodes[id];
      }
    }
    const outputs = Object.keys(workflow.nodes).filter((id) => this.engine.catalog.get(workflow.nodes[id].type)?.output);
    // A field the conversion already faulted (say, a link to an output out of range) is reported once.
    const faulted = new Set(issues.map((i) => `${i.node}\0${i.field}`));
    issues.push(...this.engine.validate(workflow).errors.filter((i) => !faulted.has(`${i.node}\0${i.field}`)));
    if (issues.length > 0) return { ok: false, body: this.refusal(issues, workflow, types, outputs) };

    const number = body.number ?? Date.now();
    const clientId = body.client_id ?? null;
    const extra = { ...body.extra_data, ...(clientId !== null && { client_id: clientId }) };
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
    return { ok: true, body: { prompt_id: promptId, number, node_errors: {} } };
  }

  /** The 400 body: each problem under its node id (with the node's type and the outputs it feeds), the rest in `error`. */
  private refusal(issues: WorkflowIssue[], workflow: Workflow, types: ReadonlyMap<string, string>, outputs: string[]): Extract<PromptAnswer, { ok: false }>['body'] {
    const feeds = dependentOutputs(workflow, outputs);
    const nodeErrors: Record<string, NodeError> = Object.create(null);
    const lines: string[] = [];
    for (const issue of issues) {
      lines.push(issue.node === null ? `${issue.field}: ${issue.message}` : `node '${issue.node}' ${issue.field}: ${issue.message}`);
      if (issue.node === null) continue;
      const input = issue.field.replace(/^(params|inputs)\./, '');
      const entry = (nodeErrors[issue.node] ??= { errors: [], dependent_outputs: feeds.get(issue.node) ?? [], class_type: types.get(issue.node) ?? null });
      entry.errors.push({ type: errorType(issue.field), message: issue.message, details: `${issue.field}: ${issue.message}`, extra_info: { input_name: input } });
    }
    const noOutputs = issues.length === 1 && issues[0].node === null && issues[0].field === 'nodes';
    const error = noOutputs
      ? problem('prompt_no_outputs', 'Prompt has no outputs', issues[0].message)
      : problem('prompt_outputs_failed_validation', 'Prompt outputs failed validation', lines.join('\n'));
    return { error, node_errors: nodeErrors };
  }
}
