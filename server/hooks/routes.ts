// The hook routes: `/hooks/:slug` runs a saved workflow for a caller over HTTP, with its OpenAPI
// document and the status URL of its runs.

import { admissionOf } from '../admission';
import express, { Router, type Request, type Response } from 'express';
import type { AppContext } from '../context';
import { HttpError, parseRequest } from '../http-error';
import { inlineImages } from '../json-values';
import { hookDocument } from '../openapi/hook-document';
import { runHttpStatus, toRunDocument } from '../run-document';
import { FINISHED, type RunRecord } from '../store/runs';
import type { Trigger } from '../store/triggers';
import { shallowJson } from '../json-depth';
import { hookAssetRoutes } from './app-assets';
import { authorize, hookOrigin, hookRateLimit, rawBodies, triggerOf } from './access';
import { deriveContract, runInputsOf, type TriggerContract } from './contract';
import { ANSWER_TYPES, imageBytes, imageOutputFor, type ImageType } from './image-answer';
import { hookQuery } from './query';

export function hookStatusUrl(slug: string, runId: string): string {
  return `/hooks/${slug}/runs/${runId}`;
}

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
 * `/hooks/:slug`: a saved workflow called over HTTP. Answers JSON (the run document), the raw bytes
 * of an image output, or 202 for async calls (with an optional signed callback); `/openapi.json`
 * describes the call, `/runs/:runId` is the status URL (authorized like the call itself).
 */
export function hookRoutes(ctx: AppContext): Router {
  const router = Router();
  const contracts = new Map<string, TriggerContract>();

  /**
   * A store read kept until the trigger or workflow store is next written: every hook call read its trigger
   * and workflow (three sqlite statements, each a trip to sqlite's thread) though they change rarely.
   */
  function untilWritten<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
    const kept = new Map<string, { generation: string; value: T }>();
    return async (key) => {
      const generation = `${ctx.triggers.writes.generation}/${ctx.workflows.writes.generation}`; // before the read
      const hit = kept.get(key);
      if (hit?.generation === generation) return hit.value;
      const value = await read(key);
      if (kept.size >= 256) kept.delete(kept.keys().next().value!);
      kept.set(key, { generation, value });
      return value;
    };
  }
  const triggerBySlug = untilWritten((slug) => ctx.triggers.bySlug(slug));
  const savedWorkflow = untilWritten((id) => ctx.workflows.get(id));

  /** The contract of a trigger's workflow as saved now (memoized per version and exposed params). */
  async function contractOf(trigger: Trigger) {
    const saved = await savedWorkflow(trigger.workflowId);
    if (!saved) throw new HttpError(404, `trigger '${trigger.slug}' has no workflow`);
    const key = `${saved.id}@${saved.version} ${JSON.stringify(trigger.inputs)}`;
    let contract = contracts.get(key);
    if (!contract) {
      contract = deriveContract(ctx.engine, saved.workflow, trigger.inputs);
      if (contracts.size >= 256) contracts.delete(contracts.keys().next().value!);
      contracts.set(key, contract);
    }
    return { saved, contract };
  }

  router.use('/hooks/:slug', async (req, res, next) => {
    const trigger = await triggerBySlug(req.params.slug);
    if (!trigger) throw new HttpError(404, `no trigger '${req.params.slug}'`);
    res.locals.trigger = trigger;
    next();
  });
  router.use('/hooks/:slug', hookOrigin, hookRateLimit);
  router.use('/hooks/:slug', express.json({ limit: ctx.limits.jsonBytes, verify: (req, _res, buf) => rawBodies.set(req as Request, buf) }));
  router.use('/hooks/:slug', shallowJson(ctx.limits.jsonDepth));
  router.use(hookAssetRoutes(ctx, contractOf));

  router.get('/hooks/:slug/openapi.json', async (req, res) => {
    const trigger = triggerOf(res);
    const { saved, contract } = await contractOf(trigger);
    res.json(hookDocument({ trigger, workflowName: saved.name, contract, serverUrl: `${req.protocol}://${req.get('host')}` }));
  });

  router.get('/hooks/:slug/runs/:runId', async (req, res) => {
    const trigger = triggerOf(res);
    authorize(trigger, req);
    const run = await ctx.manager.get(req.params.runId);
    if (!run || run.source !== `hook:${trigger.slug}`) throw new HttpError(404, `no run '${req.params.runId}' of trigger '${trigger.slug}'`);
    res.json({ ...toRunDocument(run), ...(!FINISHED.has(run.status) && { progress: progressOf(run) }) });
  });

  router.post('/hooks/:slug', async (req, res) => {
    const trigger = triggerOf(res);
    authorize(trigger, req);
    const query = parseRequest(hookQuery, req.query, 'query');
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object of run inputs');
    const { saved, contract } = await contractOf(trigger);

    const async = query.callbackUrl !== undefined || (query.mode ?? (req.get('prefer')?.includes('respond-async') ? 'async' : trigger.mode)) === 'async';
    const accepted = req.accepts([...ANSWER_TYPES]);
    if (accepted === false) throw new HttpError(406, `this hook answers ${ANSWER_TYPES.join(', ')}`);
    const imageType = accepted !== 'application/json' ? (accepted as ImageType) : query.output !== undefined ? 'image/png' : undefined;
    const image = imageType && imageOutputFor(contract.outputs, query.output);
    if (image && async) throw new HttpError(400, 'an image answer needs a sync call: drop ?mode=async and callbackUrl, or ask for JSON');

    const { inputs, issues } = runInputsOf(contract, body as Record<string, unknown>);
    if (issues.length > 0) throw new HttpError(400, issues.length === 1 ? `invalid input: ${issues[0].message}` : `invalid inputs: ${issues.length} problems`, issues);
    if (query.callbackUrl) await ctx.callbacks.checkUrl(query.callbackUrl);
    const runId = await admissionOf(res).submit({ workflow: saved.workflow, inputs, workflowId: saved.id, workflowVersion: saved.version, source: `hook:${trigger.slug}` });
    const statusUrl = hookStatusUrl(trigger.slug, runId);
    if (query.callbackUrl) ctx.callbacks.deliverWhenDone(runId, query.callbackUrl, trigger.secret);
    if (async) return accept(res, runId, statusUrl, 'queued');

    const run = await finishedWithin(ctx, runId, trigger.timeoutMs);
    if (!run) return accept(res, runId, statusUrl, 'running');
    const status = runHttpStatus(run);
    if (image && status === 200) {
      res
        .status(200)
        .type(imageType!)
        .set({ 'Picflow-Run-Id': runId, 'Content-Disposition': `inline; filename="${image.name}.${imageType!.slice(6)}"` })
        .send(await imageBytes(run, image.name, imageType!, ctx.artifacts));
      return;
    }
    const document = toRunDocument(run);
    if (query.inline === '1' || query.inline === 'true') {
      const outputs = Object.entries(run.outputs).map(async ([name, o]) => [name, { ...o, value: await inlineImages(o.value, ctx.artifacts) }] as const);
      document.outputs = Object.fromEntries(await Promise.all(outputs));
    }
    res.status(status).json(document);
  });

  return router;
}

/** 202 with where to follow the run. */
function accept(res: Response, runId: string, statusUrl: string, status: string): void {
  res.status(202).location(statusUrl).json({ runId, statusUrl, status });
}

/** The finished run, or undefined when it takes longer than `timeoutMs` (it goes on). */
async function finishedWithin(ctx: AppContext, runId: string, timeoutMs: number): Promise<RunRecord | undefined> {
  let stopTimer = () => {};
  const timeout = new Promise<undefined>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    stopTimer = () => clearTimeout(timer);
  });
  try {
    return await Promise.race([ctx.manager.result(runId), timeout]);
  } finally {
    stopTimer();
  }
}
