// The express app: security headers, request logs, admission, JSON bodies, the routes, and errors as responses (error-response.ts).
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { comfyBodyType, type ComfyApi } from './comfy';
import { appRoutes } from './apps/routes';
import { admitRun, RUN_STARTS } from './admission';
import { assertBodyType, requestLog, securityHeaders, type Middleware } from './common-middleware';
import type { AppContext } from './context';
import { editorRoutes } from './editor';
import { HOOK_UPLOAD_PATH } from './hooks/app-assets';
import type { HookLookup } from './hooks/lookup';
import { hookRoutes } from './hooks/routes';
import { HttpError } from './http-error';
import { sendError } from './error-response';
import { shallowJson } from './json-depth';
import { openapiRoutes } from './openapi/routes';
import { assertSameOrigin, isSafeMethod } from './same-origin';
import { artifactRoutes } from './routes/artifacts';
import { runRoutes } from './routes/runs';
import { systemRoutes } from './routes/system';
import { triggerRoutes } from './routes/triggers';
import { workflowRoutes } from './routes/workflows';

/** What every request goes through first, in the app and at the hook door: security headers, its log line, the Host allow-list. */
export function firstSteps(ctx: AppContext): Middleware[] {
  return [securityHeaders, requestLog(ctx.logger), ctx.access.checkHost as Middleware];
}

/** The express app: `first` (firstSteps), the API's token, JSON bodies, the API, hooks, ComfyUI's API, then the editor. */
export function createApp(ctx: AppContext, comfy: ComfyApi, first: Middleware[], hookLookup: HookLookup): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Who may ask comes before what is asked: the Host on everything (in `first`), a token on the API.
  for (const step of first) app.use(step);
  app.use('/api', ctx.access.require());
  app.use(guardRequest);
  // Before the body is parsed (the door, admission.ts, has usually taken the place already).
  app.post(RUN_STARTS, admitRun(ctx.manager));
  // A hook's call is served by the hook door (hooks/door.ts); its other routes answer CORS per trigger.
  app.use(hookRoutes(ctx, hookLookup));
  app.use(express.json({ limit: ctx.limits.jsonBytes }));
  app.use(shallowJson(ctx.limits.jsonDepth));
  app.use(openapiRoutes(ctx));
  app.use(appRoutes(ctx));

  app.use(systemRoutes(ctx));
  app.use(workflowRoutes(ctx));
  app.use(triggerRoutes(ctx));
  app.use(runRoutes(ctx));
  app.use(artifactRoutes(ctx));
  // Behind the same request guard as picflow's own API (cross-origin refusal; its body types come from comfyBodyType).
  app.use(comfy.routes);
  app.use(editorRoutes(ctx.editorDir));
  app.use((req) => {
    throw new HttpError(404, `no such endpoint: ${req.method} ${req.path}`);
  });
  app.use(errorHandler(ctx));
  return app;
}

/**
 * Refuses what no handler should see: a browser page of another origin acting on the server, and a
 * body that is not JSON (uploads: multipart), which would otherwise be silently ignored. ComfyUI's
 * routes read JSON whatever the content type says, as ComfyUI does (its clients send none).
 */
const guardRequest: RequestHandler = (req, _res, next) => {
  // A hook decides by its trigger's allowed origins (server/hooks/access.ts).
  if (!isSafeMethod(req.method) && !req.path.startsWith('/hooks/')) assertSameOrigin(req.headers);
  const type = req.path === '/api/uploads' ? 'multipart/form-data' : HOOK_UPLOAD_PATH.test(req.path) ? 'image/*' : (comfyBodyType(req.path) ?? 'application/json');
  if (type !== 'any') assertBodyType(req, type);
  next();
};

/** Every error becomes `{ error, errors? }` (error-response.ts). */
function errorHandler(ctx: AppContext): ErrorRequestHandler {
  return (err, req, res, _next) => sendError(err, req, res, ctx.limits);
}
