// `/api/workflows/:id/trigger`: set, read and remove a workflow's HTTP trigger.
import { Router } from 'express';
import { z } from 'zod';
import { TRIGGER_LIMIT_BOUNDS } from '../../engine/contract';
import type { AppContext } from '../context';
import { exposureIssues } from '../hooks/contract';
import { HttpError, parseRequest } from '../http-error';
import { SlugTakenError, type Trigger } from '../store/triggers';
import { hookUrl } from '../store/workflows';

const origin = z
  .string()
  .max(256)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
    } catch {
      return false;
    }
  }, 'an origin is scheme://host[:port], without path or trailing slash');

/** A trigger's settings, as `PUT /api/workflows/:id/trigger` takes them. */
export const triggerBody = z.strictObject({
  slug: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'use 1 to 64 lowercase letters, digits, _ and -, starting with a letter or digit'),
  mode: z.enum(['sync', 'async']),
  token: z.string().min(8, 'a token needs at least 8 characters').max(256).nullish().describe('the bearer token callers must send; null: none; omitted: the current one is kept'),
  inputs: z
    .array(
      z.strictObject({
        param: z.string().min(3).max(200).describe('<node id>.<param>'),
        name: z.string().regex(/^[A-Za-z_][\w-]{0,63}$/, 'use letters, digits, _ and -, starting with a letter or _').describe('the input name callers use'),
      }),
    )
    .max(64)
    .optional()
    .describe('node params callers may set (named prompts and template variables always are)'),
  allowedOrigins: z.array(origin).max(32).optional().describe('browser origins allowed to call the hook (CORS)'),
  rateLimit: z.int().min(TRIGGER_LIMIT_BOUNDS.rateLimit.min).max(TRIGGER_LIMIT_BOUNDS.rateLimit.max).nullish().describe('calls and uploads per minute per client (status polls, images and the OpenAPI document are not counted); none: unlimited'),
  timeoutMs: z.int().min(TRIGGER_LIMIT_BOUNDS.timeoutMs.min).max(TRIGGER_LIMIT_BOUNDS.timeoutMs.max).optional().describe('how long a sync call waits before answering 202'),
  requireSignature: z.boolean().optional().describe('calls must be signed with the secret (or carry the token)'),
  rotateSecret: z.boolean().optional().describe('replace the signing secret'),
});

/** A trigger as its owner sees it: settings, where to call it, its app page and signing secret; never the token. */
export function triggerView(trigger: Trigger) {
  return {
    slug: trigger.slug,
    mode: trigger.mode,
    hasToken: trigger.tokenHash !== null,
    url: hookUrl(trigger.slug),
    appUrl: `/apps/${trigger.slug}`,
    openapiUrl: `${hookUrl(trigger.slug)}/openapi.json`,
    inputs: trigger.inputs,
    allowedOrigins: trigger.allowedOrigins,
    rateLimit: trigger.rateLimit,
    timeoutMs: trigger.timeoutMs,
    requireSignature: trigger.requireSignature,
    secret: trigger.secret,
  };
}

/** The API that sets a workflow's HTTP trigger (the hooks themselves: server/hooks). */
export function triggerRoutes(ctx: AppContext): Router {
  const router = Router();

  const workflowOr404 = async (id: string) => {
    const saved = await ctx.workflows.get(id);
    if (!saved) throw new HttpError(404, `no workflow '${id}'`);
    return saved;
  };

  router.get('/api/workflows/:id/trigger', async (req, res) => {
    const saved = await workflowOr404(req.params.id);
    const trigger = await ctx.triggers.byWorkflow(req.params.id);
    if (!trigger) throw new HttpError(404, `workflow '${req.params.id}' has no trigger`);
    res.json({ ...triggerView(trigger), issues: exposureIssues(ctx.engine, saved.workflow, trigger.inputs) });
  });

  // Trigger settings decide who can run a workflow from outside (and with which token): admin only.
  router.put('/api/workflows/:id/trigger', ctx.access.require('admin'), async (req, res) => {
    const body = parseRequest(triggerBody, req.body ?? {}, 'trigger');
    const saved = await workflowOr404(req.params.id);
    const issues = exposureIssues(ctx.engine, saved.workflow, body.inputs ?? []);
    if (issues.length > 0) throw new HttpError(400, `the trigger's inputs do not fit the workflow (${issues.length} problem${issues.length === 1 ? '' : 's'})`, issues);
    try {
      res.json({ ...triggerView(await ctx.triggers.set(req.params.id, body)), issues });
    } catch (err) {
      if (err instanceof SlugTakenError) throw new HttpError(409, err.message);
      throw err;
    }
  });

  router.delete('/api/workflows/:id/trigger', ctx.access.require('admin'), async (req, res) => {
    if (!(await ctx.triggers.delete(req.params.id))) throw new HttpError(404, `workflow '${req.params.id}' has no trigger`);
    res.status(204).end();
  });

  return router;
}
