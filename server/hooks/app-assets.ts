// The routes a trigger's app page needs besides the hook itself, under the trigger's credentials:
// uploading an image for its inputs, and reading the images of its own runs.

import express, { Router } from 'express';
import { ARTIFACT_ID } from '../artifacts';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';
import { inspectAndStoreImage, sendArtifact } from '../routes/artifacts';
import type { RunRecord } from '../store/runs';
import type { Trigger } from '../store/triggers';
import { authorize, hookRateLimit, rawBodies, triggerOf } from './access';
import type { TriggerContract } from './contract';
import { runOfTrigger } from './hook-runs';

/** `POST /hooks/:slug/uploads`: its body is the image itself (so a signature can cover it). */
export const HOOK_UPLOAD_PATH = /^\/hooks\/[^/]+\/uploads$/;

/** The artifacts a run may show its caller: the images in its outputs and those its image inputs named. */
export function artifactsOfRun(run: RunRecord): Set<string> {
  const ids = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      const artifact = (value as { artifact?: unknown }).artifact;
      if (typeof artifact === 'string' && ARTIFACT_ID.test(artifact)) ids.add(artifact);
    }
  };
  for (const output of Object.values(run.outputs)) visit(output.value);
  for (const [input, value] of Object.entries(run.inputs)) {
    if (input.endsWith('.artifact') && typeof value === 'string' && ARTIFACT_ID.test(value)) ids.add(value);
  }
  return ids;
}

/**
 * What a trigger's app page needs besides the hook, under the trigger's own credentials (its token or
 * a signature), so that the page works when the server requires API tokens for `/api`:
 * `POST /hooks/:slug/uploads` stores an image for the trigger's image inputs (only a trigger that has
 * one takes uploads), and `GET /hooks/:slug/runs/:runId/artifacts/:id` reads an image of one of the
 * trigger's runs (its outputs and its image inputs, nothing else).
 */
export function hookAssetRoutes(ctx: AppContext, contractOf: (trigger: Trigger) => Promise<{ contract: TriggerContract }>): Router {
  const router = Router();

  router.post(
    '/hooks/:slug/uploads',
    hookRateLimit,
    express.raw({ type: 'image/*', limit: ctx.limits.uploadBytes, verify: (req, _res, buf) => rawBodies.set(req as express.Request, buf) }),
    async (req, res) => {
      const trigger = triggerOf(res);
      authorize(trigger, req);
      const { contract } = await contractOf(trigger);
      if (![...contract.inputs.values()].some((input) => input.kind === 'image')) throw new HttpError(404, `trigger '${trigger.slug}' has no image input to upload for`);
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new HttpError(400, 'send the image itself as the body (Content-Type: image/png, image/jpeg or image/webp)');
      const info = await inspectAndStoreImage(ctx, req.body);
      res.status(201).json({ artifact: info.id, width: info.width, height: info.height, contentType: info.contentType, bytes: info.bytes });
    },
  );

  router.get('/hooks/:slug/runs/:runId/artifacts/:id', async (req, res) => {
    const trigger = triggerOf(res);
    authorize(trigger, req);
    const { runId, id } = req.params;
    const run = await runOfTrigger(trigger, runId, (id) => ctx.manager.get(id));
    if (!artifactsOfRun(run).has(id)) throw new HttpError(404, `run '${runId}' has no image '${id}'`);
    await sendArtifact(ctx, id, req, res, undefined, 'private');
  });

  return router;
}
