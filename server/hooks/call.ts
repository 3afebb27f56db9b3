// `POST /hooks/:slug` itself: a saved workflow called over HTTP, answered with the run document (JSON), the raw
// bytes of an image output, or 202 for async calls (with an optional signed callback). Written on Node's own
// request and response: the hook door (door.ts) serves it without express, whose per-request work cost more
// than the run.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { WorkflowIssue } from '../../engine/contract';
import { WorkflowError } from '../../engine/workflow';
import type { Admission } from '../run-manager';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';
import { inlineImages, type JsonValue } from '../json-values';
import { sendBytes, sendJson } from '../plain-response';
import { runHttpStatus } from '../run-document';
import { settledWithin } from '../run-queue';
import type { Trigger } from '../store/triggers';
import { authorize } from './access';
import { hookRunDocument, hookSource, hookStatusUrl } from './hook-runs';
import { callerIssues, runInputsOf, type TriggerContract } from './contract';
import { ANSWER_TYPES, imageBytes, imageOutputFor, type ImageType } from './image-answer';
import type { HookLookup } from './lookup';
import { parseHookQuery } from './query';

/** The query of a call without one (most calls): parsed once. */
const NO_QUERY = parseHookQuery('');

/** What the door has established before the call: the trigger, the parsed body and the place in the queue. */
export interface HookCall {
  trigger: Trigger;
  body: unknown;
  admission: Admission;
}

/** The media type the caller accepts among ANSWER_TYPES (express's own `req.accepts`, on a plain request: it reads only the headers). */
function acceptedType(req: IncomingMessage): string | false {
  const accepts = express.request.accepts as (this: IncomingMessage, types: string[]) => string | false;
  return accepts.call(req, [...ANSWER_TYPES]);
}

export async function callHook(ctx: AppContext, lookup: HookLookup, req: IncomingMessage, res: ServerResponse, call: HookCall): Promise<void> {
  const { trigger, body } = call;
  authorize(trigger, req);
  const search = req.url!.indexOf('?');
  const query = search < 0 ? NO_QUERY : parseHookQuery(req.url!.slice(search + 1));
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object of run inputs');
  const { saved, contract } = await lookup.contractOf(trigger);

  const prefersAsync = req.headers.prefer?.includes('respond-async');
  const async = query.callbackUrl !== undefined || (query.mode ?? (prefersAsync ? 'async' : trigger.mode)) === 'async';
  const accepted = acceptedType(req);
  if (accepted === false) throw new HttpError(406, `this hook answers ${ANSWER_TYPES.join(', ')}`);
  const imageType = accepted !== 'application/json' ? (accepted as ImageType) : query.output !== undefined ? 'image/png' : undefined;
  const image = imageType && imageOutputFor(contract.outputs, query.output);
  if (image && async) throw new HttpError(400, 'an image answer needs a sync call: drop ?mode=async and callbackUrl, or ask for JSON');

  const { inputs, issues, outdated } = runInputsOf(contract, body as Record<string, unknown>);
  if (outdated.length > 0) {
    const problems = outdated.map((issue) => issue.message).join('; ');
    throw new HttpError(409, `trigger '${trigger.slug}' is out of date with its workflow (${problems}); its owner must update the trigger's inputs`, outdated);
  }
  if (issues.length > 0) throw invalidInputs(issues);
  if (query.callbackUrl) await ctx.callbacks.checkUrl(query.callbackUrl);
  const { id: runId, done } = await call.admission
    .submit({ workflow: saved.workflow, compiled: lookup.compiledOf(saved), inputs, workflowId: saved.id, workflowVersion: saved.version, source: hookSource(trigger.slug) })
    .catch((err: unknown) => Promise.reject(refusedInputs(contract, body as Record<string, unknown>, err)));
  const statusUrl = hookStatusUrl(trigger.slug, runId);
  if (query.callbackUrl) await recordCallback(ctx, runId, query.callbackUrl, trigger.secret);
  if (async) return accept(res, runId, statusUrl, 'queued');

  const run = (await settledWithin(done, trigger.timeoutMs)) ? await done : undefined;
  if (!run) return accept(res, runId, statusUrl, 'running');
  const status = runHttpStatus(run);
  if (image && status === 200) {
    const bytes = await imageBytes(run, image.name, imageType!, ctx.artifacts);
    const disposition = `inline; filename="${image.name}.${imageType!.slice(6)}"`;
    return sendBytes(res, 200, imageType!, bytes, { 'Picflow-Run-Id': runId, 'Content-Disposition': disposition });
  }
  const document = hookRunDocument(run, ctx.access.enabled);
  if (query.inline === '1' || query.inline === 'true') {
    const outputs = Object.entries(document.outputs).map(async ([name, o]) => [name, { ...o, value: await inlineImages(o.value as JsonValue, ctx.artifacts) }] as const);
    document.outputs = Object.fromEntries(await Promise.all(outputs));
  }
  sendJson(res, status, document);
}

/** A 400 naming the caller's inputs that do not fit. */
function invalidInputs(issues: WorkflowIssue[]): HttpError {
  return new HttpError(400, issues.length === 1 ? `invalid input: ${issues[0].message}` : `invalid inputs: ${issues.length} problems`, issues);
}

/**
 * The engine's refusal of a call's run, told by the caller's input names when it refuses values the caller
 * gave (it names node params: `node 'p' params.text`); a refusal of the saved workflow itself stays as it is.
 */
function refusedInputs(contract: TriggerContract, body: Record<string, unknown>, err: unknown): unknown {
  if (!(err instanceof WorkflowError)) return err;
  const told = err.issues.map((issue) => callerIssues(contract, body, issue));
  if (told.every((issues) => issues === undefined)) return err;
  return invalidInputs(err.issues.flatMap((issue, index) => told[index] ?? [issue]));
}

/** Records the call's callback before the call is answered; a run whose callback cannot be recorded is cancelled, as its caller is told it failed. */
async function recordCallback(ctx: AppContext, runId: string, url: string, secret: string): Promise<void> {
  try {
    await ctx.callbacks.deliverWhenDone(runId, url, secret);
  } catch (err) {
    await ctx.manager.cancel(runId).catch(() => undefined);
    throw err;
  }
}

/** 202 with where to follow the run. */
function accept(res: ServerResponse, runId: string, statusUrl: string, status: string): void {
  sendJson(res, 202, { runId, statusUrl, status }, { Location: statusUrl });
}
