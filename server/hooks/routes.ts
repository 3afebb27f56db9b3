// The hook routes besides the call itself (served by the door, hooks/door.ts): a hook's OpenAPI
// document, the status of its runs and its app assets.

import { Router } from 'express';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';
import { hookDocument } from '../openapi/hook-document';
import { FINISHED, type RunRecord } from '../store/runs';
import { hookAssetRoutes } from './app-assets';
import { hookRunDocument, runOfTrigger } from './hook-runs';
import { authorize, hookOrigin, triggerOf } from './access';
import type { HookLookup } from './lookup';

/** How far a run has come: nodes done of all, and the progress of those running. */
function progressOf(run: RunRecord) {
  const nodes = Object.entries(run.nodes);
  return {
    nodesDone: nodes.filter(([, n]) => n.status === 'succeeded' || n.status === 'cached').length,
    nodesTotal: nodes.length,
    running: nodes.filter(([, n]) => n.status === 'running').map(([node, n]) => ({ node, step: n.progress?.step ?? 0, total: n.progress?.total ?? 0 })),
  };
}

/**
 * `/hooks/:slug/...` besides the call itself (hooks/call.ts, served by the hook door): `/openapi.json`
 * describes the call, `/runs/:runId` is the status URL (authorized like the call itself), and the app
 * page's assets (app-assets.ts).
 */
export function hookRoutes(ctx: AppContext, lookup: HookLookup): Router {
  const router = Router();

  router.use('/hooks/:slug', async (req, res, next) => {
    const trigger = await lookup.triggerBySlug(req.params.slug);
    if (!trigger) throw new HttpError(404, `no trigger '${req.params.slug}'`);
    res.locals.trigger = trigger;
    next();
  });
  // The trigger's rate limit counts what starts work (calls, in the door, and uploads), not reads: an app page
  // polls its run's status four times a second and would spend a small limit on that alone.
  router.use('/hooks/:slug', hookOrigin);
  router.use(hookAssetRoutes(ctx, (trigger) => lookup.contractOf(trigger)));

  router.get('/hooks/:slug/openapi.json', async (req, res) => {
    const trigger = triggerOf(res);
    const { saved, contract } = await lookup.contractOf(trigger);
    res.json(hookDocument({ trigger, workflowName: saved.name, contract, serverUrl: `${req.protocol}://${req.get('host')}` }));
  });

  router.get('/hooks/:slug/runs/:runId', async (req, res) => {
    const trigger = triggerOf(res);
    authorize(trigger, req);
    const run = await runOfTrigger(trigger, req.params.runId, (id) => ctx.manager.get(id));
    res.json({ ...hookRunDocument(run, ctx.access.enabled), ...(!FINISHED.has(run.status) && { progress: progressOf(run) }) });
  });

  return router;
}
