// The hook door: `POST /hooks/:slug` (a trigger's call, the hot path of a busy hook server) served on Node's own
// request and response, without the express app, whose per-request work cost more CPU than the run itself
// (bench/server.ts). The call goes through the same steps, in the same order, as a request through the app:
// security headers, its log line, the Host allow-list, the body's media type, then the hook's own: its trigger,
// origin, rate limit, JSON body (json-body.ts; kept raw for signatures), depth limit, and the call (call.ts); any error is
// answered by error-response.ts, as the app's are.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertBodyType, type Middleware } from '../common-middleware';
import type { AppContext } from '../context';
import { sendError } from '../error-response';
import { HttpError } from '../http-error';
import { gatherHeaders, setResponseHeaders } from '../plain-response';
import { shallowJson } from '../json-depth';
import type { DoorHandler } from '../admission';
import type { Admission } from '../run-manager';
import { hookOrigin, hookRateLimit, triggerOf, type HookResponse } from './access';
import { callHook } from './call';
import { hookJsonBody } from './json-body';
import type { HookLookup } from './lookup';

/** `/hooks/<slug>` as express routes it: any case, a trailing slash allowed, a query after. */
const HOOK_CALL = /^\/hooks\/([^/?]+)\/?(?:\?|$)/i;

/** Whether a request is a trigger's call (the door's to serve). */
function isHookCall(req: IncomingMessage): boolean {
  return req.method === 'POST' && HOOK_CALL.test(req.url ?? '');
}

/** express's `res.append` (add a value to a header), which express-rate-limit writes its draft-8 headers with. */
function append(this: ServerResponse, field: string, value: string | string[]): ServerResponse {
  setResponseHeaders(this, [value].flat().flatMap((one) => [field, one]));
  return this;
}

/** Runs connect-style steps in order; the first error (thrown or passed on) ends them. */
function runSteps(req: IncomingMessage, res: ServerResponse, steps: Middleware[], done: (err?: unknown) => void): void {
  const step = (index: number, err?: unknown): void => {
    if (err !== undefined || index === steps.length) return done(err);
    try {
      steps[index](req, res, (next) => step(index + 1, next));
    } catch (thrown) {
      done(thrown);
    }
  };
  step(0);
}

/** Serves a trigger's call with the place in the queue taken at the door (admission.ts), after `first`: the app's own first steps. */
export function hookDoor(ctx: AppContext, lookup: HookLookup, first: Middleware[]): DoorHandler {
  const jsonBody = hookJsonBody(ctx.limits.jsonBytes);
  const depth = shallowJson(ctx.limits.jsonDepth) as unknown as Middleware;
  const bodyType: Middleware = (req, _res, next) => {
    assertBodyType(req, 'application/json');
    next();
  };
  const findTrigger: Middleware = (req, res, next) => {
    let slug: string;
    try {
      slug = decodeURIComponent(HOOK_CALL.exec(req.url!)![1]);
    } catch {
      throw new HttpError(400, `malformed hook path: ${req.url}`);
    }
    lookup.triggerBySlug(slug).then((trigger) => {
      if (!trigger) return next(new HttpError(404, `no trigger '${slug}'`));
      (res as HookResponse).locals.trigger = trigger;
      next();
    }, next);
  };
  const steps: Middleware[] = [...first, bodyType, findTrigger, hookOrigin as Middleware, hookRateLimit as Middleware, jsonBody, depth];

  return { handles: isHookCall, serve };

  function serve(req: IncomingMessage, res: ServerResponse, admission: Admission): void {
    // What the hook steps use of an express response: `locals` (the trigger), `append` (rate limit headers).
    const response = Object.assign(res, { locals: Object.create(null) as Record<string, unknown>, append });
    gatherHeaders(response);
    // A place not used is given back when the response closes (admission.ts).
    const failed = (error: unknown) => sendError(error, req, response, ctx.limits);
    runSteps(req, response, steps, (err) => {
      if (err !== undefined) return failed(err);
      const body = (req as IncomingMessage & { body?: unknown }).body ?? {};
      callHook(ctx, lookup, req, response, { trigger: triggerOf(response), body, admission }).catch(failed);
    });
  }
}
