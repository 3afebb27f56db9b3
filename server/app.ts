// The express app: security headers, request logs, admission, JSON bodies, the routes, and the one mapping of errors to responses.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import helmet from 'helmet';
import multer from 'multer';
import { pinoHttp } from 'pino-http';
import { comfyBodyType, type ComfyApi } from './comfy';
import { appRoutes } from './apps/routes';
import { formatIssue } from '../engine/contract';
import { WorkflowError } from '../engine/workflow';
import { admitRun, RUN_STARTS } from './admission';
import type { AppContext } from './context';
import { editorRoutes } from './editor';
import { HOOK_UPLOAD_PATH } from './hooks/app-assets';
import { hookRoutes } from './hooks/routes';
import { HttpError } from './http-error';
import { shallowJson } from './json-depth';
import { openapiRoutes } from './openapi/routes';
import { QueueClosedError, QueueFullError, QueueUnavailableError, RunStateError, UnknownRunError } from './run-errors';
import { assertSameOrigin, isSafeMethod } from './same-origin';
import { artifactRoutes } from './routes/artifacts';
import { runRoutes } from './routes/runs';
import { systemRoutes } from './routes/system';
import { triggerRoutes } from './routes/triggers';
import { workflowRoutes } from './routes/workflows';

const REQUEST_ID = /^[\w-]{1,64}$/;

/** The express app: security headers, request logs, JSON bodies, the API, hooks, ComfyUI's API, then the editor. */
export function createApp(ctx: AppContext, comfy: ComfyApi): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // Served over plain http on localhost: upgrading requests would break the editor.
          upgradeInsecureRequests: null,
          imgSrc: ["'self'", 'data:', 'blob:'],
          workerSrc: ["'self'", 'blob:'],
        },
      },
    }),
  );
  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // A full queue refusing is the server working as meant under load (info); any other 503 (an outage) is a warning.
      customLogLevel: (_req, res, err) => {
        if ((res as express.Response).locals?.queueFull) return 'info';
        return err || (res.statusCode >= 500 && res.statusCode !== 503) ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      },
      // A refused request's line says why.
      customSuccessObject: (_req, res, line) => {
        const error = (res as express.Response).locals?.error;
        return error ? { ...line, error } : line;
      },
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  // Who may ask comes before what is asked: the Host on everything, a token on the API.
  app.use(ctx.access.checkHost);
  app.use('/api', ctx.access.require());
  app.use(guardRequest);
  // Before the body is parsed (the door, admission.ts, has usually taken the place already).
  app.post(RUN_STARTS, admitRun(ctx.manager));
  // Hooks parse their own bodies (kept raw for signatures) and answer CORS per trigger.
  app.use(hookRoutes(ctx));
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
  if (type !== 'any' && req.headers['content-length'] !== '0' && req.is(type) === false) throw new HttpError(415, `send the body as ${type}`);
  next();
};


/** Every error becomes `{ error, errors? }` with a 4xx that says what was wrong, a 503 that says when to retry, or a logged 500. */
function errorHandler(ctx: AppContext): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      // The response was under way (a stream broke): nothing sensible can follow it.
      res.destroy();
      return;
    }
    const { status, message, errors, headers } = describe(err, ctx);
    // pino-http's line for this request carries the error: its stack for a 500, its message otherwise.
    if (status >= 500 && status !== 503) (res as typeof res & { err?: unknown }).err = err;
    else res.locals.error = message;
    res.locals.queueFull = err instanceof QueueFullError;
    res
      .status(status)
      .set(headers)
      .json({ error: message, ...(errors && { errors }) });
  };
}

type Described = Pick<HttpError, 'status' | 'message' | 'errors' | 'headers'>;

/** The one place where the run service's domain errors become status codes. */
function describeRunError(err: unknown): Described | undefined {
  if (err instanceof WorkflowError) {
    const { issues } = err;
    const message = issues.length === 1 ? `invalid workflow: ${formatIssue(issues[0])}` : `invalid workflow: ${issues.length} problems`;
    return { status: 400, message, errors: issues, headers: {} };
  }
  if (err instanceof QueueFullError || err instanceof QueueUnavailableError) {
    return { status: 503, message: err.message, headers: { 'Retry-After': String(err.retryAfterSeconds) } };
  }
  if (err instanceof QueueClosedError) return { status: 503, message: err.message, headers: {} };
  if (err instanceof UnknownRunError) return { status: 404, message: err.message, headers: {} };
  if (err instanceof RunStateError) return { status: 409, message: err.message, headers: {} };
  return undefined;
}

function describe(err: unknown, ctx: AppContext): Described {
  if (err instanceof HttpError) return err;
  const runError = describeRunError(err);
  if (runError) return runError;
  if (err instanceof multer.MulterError) {
    const tooLarge = err.code === 'LIMIT_FILE_SIZE';
    return {
      status: tooLarge ? 413 : 400,
      message: tooLarge ? `the upload is larger than the limit of ${ctx.limits.uploadBytes} bytes` : `bad upload: ${err.message}`,
      headers: {},
    };
  }
  // body-parser's errors carry a type and a status that is safe to show.
  const { type, status, expose, message } = err as { type?: string; status?: number; expose?: boolean; message?: string };
  if (type === 'entity.parse.failed') return { status: 400, message: `malformed JSON body: ${message}`, headers: {} };
  if (type === 'entity.too.large') return { status: 413, message: `the body is larger than the limit of ${ctx.limits.jsonBytes} bytes`, headers: {} };
  if (expose && typeof status === 'number' && status >= 400 && status < 500) return { status, message: message ?? 'bad request', headers: {} };
  return { status: 500, message: 'internal server error', headers: {} };
}
