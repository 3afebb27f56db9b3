// The runs API (each start admitted before any work: admission.ts): start, history, one run, cancel, resume.
import { Router } from 'express';
import { z } from 'zod';
import { asWorkflowV1, catalogPorts } from '../../engine/api-format';
import { formatIssue } from '../../engine/contract';
import type { AppContext } from '../context';
import { HttpError, parseRequest, queryWholeNumber, runInputsField } from '../http-error';
import { imageRefsIn } from '../json-values';
import { toRunRecordDocument } from '../run-document';
import { admissionOf } from '../admission';

/**
 * `editedFrom` (with `workflow`): the saved workflow that JSON is an edited, unsaved state of; the run
 * is recorded in that workflow's history, the JSON its snapshot. `source` says where a run came from.
 */
export const runBody = z
  .strictObject({
    workflow: z.unknown().optional(),
    workflowId: z.string().min(1).optional(),
    editedFrom: z.string().min(1).optional(),
    inputs: runInputsField.default({}),
    wait: z.boolean().default(false),
    source: z.enum(['api', 'editor', 'cli']).default('api'),
  })
  .refine((b) => (b.workflow === undefined) !== (b.workflowId === undefined), {
    message: 'give exactly one of `workflow` (the JSON) and `workflowId` (a saved workflow)',
  })
  .refine((b) => b.editedFrom === undefined || b.workflow !== undefined, {
    message: '`editedFrom` names the saved workflow that `workflow` was edited from; give `workflow` with it',
  });

export const listQuery = z.object({
  workflowId: z.string().min(1).optional(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']).optional(),
  limit: queryWholeNumber(1, 200).default(50),
  before: queryWholeNumber(1).optional(),
  /** Created at or after / before these times (ms since the epoch). */
  since: queryWholeNumber(0).optional(),
  until: queryWholeNumber(0).optional(),
});

export function statusUrl(runId: string): string {
  return `/api/runs/${runId}`;
}

/** Runs: start (queued, or waited for), history, one run, cancel, resume. */
export function runRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/api/runs', async (req, res) => {
    const body = parseRequest(runBody, req.body ?? {}, 'run request');
    // Workflow JSON v1, or ComfyUI's API format (detected, and converted to v1 before it is validated).
    const converted = asWorkflowV1(body.workflow, catalogPorts(ctx.engine.catalog));
    if (converted.issues.length > 0) throw new HttpError(400, `invalid workflow (API format): ${converted.issues.map(formatIssue).join('; ')}`, converted.issues);
    let workflow = converted.workflow;
    let version: number | null = null;
    if (body.workflowId !== undefined) {
      const saved = await ctx.workflows.get(body.workflowId);
      if (!saved) throw new HttpError(404, `no workflow '${body.workflowId}'`);
      workflow = saved.workflow;
      version = saved.version;
    }
    // An edited state is no saved version (version stays null): its snapshot is the record.
    if (body.editedFrom !== undefined && !(await ctx.workflows.get(body.editedFrom))) {
      throw new HttpError(404, `no workflow '${body.editedFrom}' (\`editedFrom\`)`);
    }
    const run = await admissionOf(res).submit({
      workflow,
      inputs: body.inputs,
      workflowId: body.workflowId ?? body.editedFrom ?? null,
      workflowVersion: version,
      source: body.source,
    });
    if (body.wait) res.json(toRunRecordDocument(await run.done, []));
    else res.status(202).json({ runId: run.id, statusUrl: statusUrl(run.id) });
  });

  router.get('/api/runs', async (req, res) => {
    res.json(await ctx.runs.list(parseRequest(listQuery, req.query, 'query')));
  });

  // The images of finished runs, newest first, with the same filters and paging as the run list.
  router.get('/api/gallery', async (req, res) => {
    const page = await ctx.runs.list(parseRequest(listQuery, req.query, 'query'));
    const items = page.runs.flatMap((run) =>
      Object.entries(run.outputs).flatMap(([name, output]) =>
        imageRefsIn([output.value]).map((image) => ({ runId: run.id, workflowId: run.workflowId, source: run.source, status: run.status, createdAt: run.createdAt, output: name, node: output.node, ...image })),
      ),
    );
    res.json({ items, next: page.next });
  });

  router.get('/api/runs/:id', async (req, res) => {
    const run = await ctx.manager.get(req.params.id);
    if (!run) throw new HttpError(404, `no run '${req.params.id}'`);
    res.json(toRunRecordDocument(run, await ctx.callbacks.attempts(run.id)));
  });

  router.post('/api/runs/:id/cancel', async (req, res) => {
    const runId = req.params.id;
    const outcome = await ctx.manager.cancel(runId);
    // A running run stops at its next cancellation point; run:finished (cancelled) follows.
    res.status(outcome === 'cancelled' ? 200 : 202).json({ runId, status: outcome });
  });

  // An interrupted run (the server stopped under it) is queued again; its finished nodes are not run again. A hook
  // run's callback delivered its interrupted end: its caller gets the end it now comes to as well.
  router.post('/api/runs/:id/resume', async (req, res) => {
    const runId = req.params.id;
    await ctx.manager.resume(runId);
    await ctx.callbacks.rearm(runId);
    res.status(202).json({ runId, statusUrl: statusUrl(runId) });
  });

  return router;
}
