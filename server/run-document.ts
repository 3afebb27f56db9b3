// The one JSON shape of a run that programs read (hook answers, GET /api/runs/:id, callbacks).
import { z } from 'zod';
import type { CallbackAttempt } from './hooks/callbacks';
import type { RunRecord, RunSummary } from './store/runs';

/**
 * The one shape of a run that programs read (issue 14): the sync hook's answer, `GET /api/runs/:id`
 * (which adds the workflow, inputs, node states and callback attempts) and every callback's body.
 * `apiVersion` 2 replaced the hooks' flat `{ runId, status, outputs: { name: value } }`.
 */
export const RUN_API_VERSION = 2;

export const imageRefSchema = z
  .object({
    artifact: z.string().describe('the artifact id (sha256 of the PNG)'),
    url: z.string().describe('where the PNG is served'),
    width: z.int(),
    height: z.int(),
    base64: z.string().optional().describe('the PNG itself, with `?inline=1`'),
  })
  .meta({ id: 'ImageRef', description: 'An image output: a PNG artifact.' });

export const runErrorSchema = z
  .object({
    node: z.string().nullable().describe('the node that failed; null when the run itself failed'),
    message: z.string(),
    crashed: z.boolean().optional().describe('the node broke (answered 500) rather than refusing its inputs (422)'),
  })
  .meta({ id: 'RunError' });

export const runStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']).meta({ id: 'RunStatus' });

/** One named output: the node that produced it, how it is meant (saved, previewed, a value), its type and value. */
export function runOutputSchema<V extends z.ZodType>(value: V) {
  return z.object({
    node: z.string(),
    kind: z.enum(['save', 'preview', 'value']),
    type: z.string().describe('the socket type: text, number, boolean, image, any, or a list such as image[]'),
    value,
  });
}

/** A run document whose `outputs` follow `outputs` (a per-trigger document names each one). */
export function runDocumentSchema<O extends z.ZodType>(outputs: O) {
  return z.object({
    apiVersion: z.literal(RUN_API_VERSION),
    id: z.string().describe('the run id'),
    status: runStatusSchema,
    source: z.string().describe('`api`, or `hook:<slug>`'),
    workflowId: z.string().nullable(),
    workflowVersion: z.int().nullable(),
    createdAt: z.number().describe('ms since the epoch'),
    startedAt: z.number().nullable(),
    finishedAt: z.number().nullable(),
    ms: z.number().nullable(),
    error: runErrorSchema.nullable(),
    outputs,
  });
}

export const runDocument = runDocumentSchema(z.record(z.string(), runOutputSchema(z.unknown()))).meta({
  id: 'Run',
  description: 'A run (apiVersion 2): the same shape from hooks, `GET /api/runs/:id` and callbacks.',
});

export type RunDocument = z.infer<typeof runDocument>;

export function toRunDocument(run: RunSummary): RunDocument {
  return {
    apiVersion: RUN_API_VERSION,
    id: run.id,
    status: run.status,
    source: run.source,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    ms: run.ms,
    error: run.error,
    outputs: run.outputs,
  };
}

/** `GET /api/runs/:id`: the run document with what only the API shows (workflow, inputs, nodes, callback attempts). */
export function toRunRecordDocument(run: RunRecord, callbacks: CallbackAttempt[]) {
  return { ...toRunDocument(run), workflow: run.workflow, inputs: run.inputs, nodes: run.nodes, callbacks };
}

/**
 * The HTTP status a finished run is answered with: 200 succeeded; 422 a node refused its inputs;
 * 500 a node crashed or the run itself broke; 409 cancelled; 503 interrupted by a shutdown.
 */
export function runHttpStatus(run: Pick<RunSummary, 'status' | 'error'>): number {
  switch (run.status) {
    case 'succeeded':
      return 200;
    case 'failed':
      return run.error?.node && !run.error.crashed ? 422 : 500;
    case 'cancelled':
      return 409;
    case 'interrupted':
      return 503;
    default:
      return 202;
  }
}
