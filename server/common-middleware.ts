// What every request goes through, in connect style on Node's own request and response (no express needed), so
// that the express app and the hook door (hooks/door.ts) share one set: security headers, the request log line,
// and the check of the body's media type.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { ResponseNotes } from './error-response';
import { HttpError } from './http-error';

/** connect-style middleware on Node's own request and response. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const REQUEST_ID = /^[\w-]{1,64}$/;

export const securityHeaders: Middleware = helmet({
  contentSecurityPolicy: {
    directives: {
      // Served over plain http on localhost: upgrading requests would break the editor.
      upgradeInsecureRequests: null,
      imgSrc: ["'self'", 'data:', 'blob:'],
      workerSrc: ["'self'", 'blob:'],
    },
  },
});

/** One log line per request (with its id, echoed in X-Request-Id), at a level that follows the status. */
export function requestLog(logger: Logger): Middleware {
  const notes = (res: ServerResponse) => (res as ServerResponse & ResponseNotes).locals;
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // A full queue refusing is the server working as meant under load (info); any other 503 (an outage) is a warning.
    customLogLevel: (_req, res, err) => {
      if (notes(res)?.queueFull) return 'info';
      return err || (res.statusCode >= 500 && res.statusCode !== 503) ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
    },
    // A refused request's line says why.
    customSuccessObject: (_req, res, line) => {
      const error = notes(res)?.error;
      return error ? { ...line, error } : line;
    },
    serializers: {
      req: (req) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res) => ({ statusCode: res.statusCode }),
    },
  });
}

/**
 * A body that is not of `type` (`image/*` allowed) is refused with 415: it would otherwise be silently
 * ignored. express's own `req.is`, called on a plain request (it reads only the headers).
 */
export function assertBodyType(req: IncomingMessage, type: string): void {
  if (req.headers['content-length'] !== '0' && express.request.is.call(req as express.Request, type) === false) {
    throw new HttpError(415, `send the body as ${type}`);
  }
}
