// The runs API (each start admitted before any work: admission.ts): start, history, one run, cancel, resume.
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import { HttpError, parseRequest } from '../http-error';
import { admissionOf } from '../admission';

const runBody = z
  .strictObject({
    workflow: z.unknown().optional(),
    workflowId: z.string().min(1).optional(),
    inputs: z.record(z.string(), z.unknown()).default({}),
    wait: z.boolean().default(false),
  })
  .refine((b) => (b.workflow === undefined) !== (b.workflowId === undefined), {
    message: 'give exactly one of `workflow` (the JSON) and `workflowId` (a saved workflow)',
  });

const listQuery = z.object({
  workflowId: z.string().min(1).optional(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().positive().optional(),
});

export function statusUrl(runId: string): string {
  return `/api/runs/${runId}`;
}

/** Runs: start (queued, or waited for), history, one run, cancel, resume. */
export function runRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/api/runs', async (req, res) => {
    const body = parseRequest(runBody, req.body ?? {}, 'run request');
    let workflow = body.workflow;
    let version: number | null = null;
    if (body.workflowId !== undefined) {
      const saved = await ctx.workflows.get(body.workflowId);
      if (!saved) throw new HttpError(404, `no workflow '${body.workflowId}'`);
      workflow = saved.workflow;
      version = saved.version;
    }
    const runId = await admissionOf(res).submit({
      workflow,
      inputs: body.inputs,
      workflowId: body.workflowId ?? null,
      workflowVersion: version,
      source: 'api',
    });
    if (body.wait) res.json(await ctx.manager.result(runId));
    else res.status(202).json({ runId, statusUrl: statusUrl(runId) });
  });

  router.get('/api/runs', async (req, res) => {
    res.json(await ctx.runs.list(parseRequest(listQuery, req.query, 'query')));
  });

  router.get('/api/runs/:id', async (req, res) => {
    const run = await ctx.manager.get(req.params.id);
    if (!run) throw new HttpError(404, `no run '${req.params.id}'`);
    res.json(run);
  });

  router.post('/api/runs/:id/cancel', async (req, res) => {
    const runId = req.params.id;
    const outcome = await ctx.manager.cancel(runId);
    // A running run stops at its next cancellation point; run:finished (cancelled) follows.
    res.status(outcome === 'cancelled' ? 200 : 202).json({ runId, status: outcome });
  });

  // An interrupted run (the server stopped under it) is queued again; its finished nodes are not run again.
  router.post('/api/runs/:id/resume', async (req, res) => {
    const runId = req.params.id;
    await ctx.manager.resume(runId);
    res.status(202).json({ runId, statusUrl: statusUrl(runId) });
  });

  return router;
}
