import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import { HttpError, parseRequest } from '../http-error';
import { admissionOf } from '../admission';
import { inlineImages } from '../json-values';
import { SlugTakenError, tokenMatches } from '../store/triggers';
import { statusUrl } from './runs';

const triggerBody = z.strictObject({
  slug: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'use 1 to 64 lowercase letters, digits, _ and -, starting with a letter or digit'),
  mode: z.enum(['sync', 'async']),
  token: z.string().min(8, 'a token needs at least 8 characters').max(256).nullish(),
});

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** HTTP triggers: a saved workflow exposed at `/hooks/:slug`, and the API that sets them. */
export function triggerRoutes(ctx: AppContext): Router {
  const router = Router();

  const workflowOr404 = async (id: string) => {
    const saved = await ctx.workflows.get(id);
    if (!saved) throw new HttpError(404, `no workflow '${id}'`);
    return saved;
  };

  router.get('/api/workflows/:id/trigger', async (req, res) => {
    const { trigger } = await workflowOr404(req.params.id);
    if (!trigger) throw new HttpError(404, `workflow '${req.params.id}' has no trigger`);
    res.json(trigger);
  });

  router.put('/api/workflows/:id/trigger', async (req, res) => {
    const body = parseRequest(triggerBody, req.body ?? {}, 'trigger');
    await workflowOr404(req.params.id);
    try {
      await ctx.triggers.set(req.params.id, body);
    } catch (err) {
      if (err instanceof SlugTakenError) throw new HttpError(409, err.message);
      throw err;
    }
    res.json((await workflowOr404(req.params.id)).trigger);
  });

  router.delete('/api/workflows/:id/trigger', async (req, res) => {
    if (!(await ctx.triggers.delete(req.params.id))) throw new HttpError(404, `workflow '${req.params.id}' has no trigger`);
    res.status(204).end();
  });

  // The JSON body holds the run inputs; they are checked against the workflow before anything is queued
  // (and a place in the queue was taken before that: admitRun).
  router.post('/hooks/:slug', async (req, res) => {
    const trigger = await ctx.triggers.bySlug(req.params.slug);
    if (!trigger) throw new HttpError(404, `no trigger '${req.params.slug}'`);
    if (!tokenMatches(trigger, bearerToken(req.headers.authorization))) {
      throw new HttpError(401, 'this trigger needs `Authorization: Bearer <token>` with its token', undefined, {
        'WWW-Authenticate': 'Bearer realm="picflow"',
      });
    }
    const inputs = req.body ?? {};
    if (typeof inputs !== 'object' || Array.isArray(inputs)) throw new HttpError(400, 'the body must be a JSON object of run inputs');
    const saved = await workflowOr404(trigger.workflowId);
    const runId = await admissionOf(res).submit({
      workflow: saved.workflow,
      inputs,
      workflowId: saved.id,
      workflowVersion: saved.version,
      source: `hook:${trigger.slug}`,
    });
    if (trigger.mode === 'async') {
      res.status(202).json({ runId, statusUrl: statusUrl(runId) });
      return;
    }
    const run = (await ctx.manager.result(runId))!;
    const inline = req.query.inline === '1' || req.query.inline === 'true';
    const outputs: Record<string, unknown> = {};
    for (const [name, output] of Object.entries(run.outputs)) {
      outputs[name] = inline ? await inlineImages(output.value, ctx.artifacts) : output.value;
    }
    res.json({ runId, status: run.status, outputs, ...(run.error && { error: run.error }) });
  });

  return router;
}
