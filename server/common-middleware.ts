// What every request goes through, in connect style on Node's own request and response (no express needed), so
// that the express app and the hook door (hooks/door.ts) share one set: security headers, the request log line,
// and the check of the body's media type.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unescape } from 'node:querystring';
import express from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { ResponseNotes } from './error-response';
import { redactedUrl } from './hooks/callback-target';
import { HttpError } from './http-error';
import { setResponseHeaders } from './plain-response';

/** connect-style middleware on Node's own request and response. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const REQUEST_ID = /^[\w-]{1,64}$/;

/**
 * A middleware that only sets and removes the same headers on every response, recorded once and replayed:
 * helmet with fixed directives (no per-request nonce) is one, and its chain of a dozen middlewares per
 * request cost more than writing the headers. Throws at start-up should it ever need the request. On a
 * response that gathers its headers (plain-response.ts) the set ones join its head and the removals are moot:
 * nothing there sets a header before them.
 */
function replayed(middleware: Middleware): Middleware {
  const headers: [name: string, value: string | string[] | undefined][] = [];
  const recorder = {
    setHeader(name: string, value: string | string[]) {
      headers.push([name, value]);
      return recorder;
    },
    removeHeader(name: string) {
      headers.push([name, undefined]);
    },
  };
  let finished = false;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    if (err !== undefined) throw err;
    finished = true;
  });
  if (!finished) throw new Error('the security headers middleware did not finish at once: it cannot be replayed');
  const removed = headers.filter(([, value]) => value === undefined).map(([name]) => name);
  const set = headers.flatMap(([name, value]) => (value === undefined ? [] : [value].flat().flatMap((one) => [name, one])));
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    setResponseHeaders(res, set);
    next();
  };
}

export const securityHeaders: Middleware = replayed(
  helmet({
    contentSecurityPolicy: {
      directives: {
        // Served over plain http on localhost: upgrading requests would break the editor.
        upgradeInsecureRequests: null,
        imgSrc: ["'self'", 'data:', 'blob:'],
        workerSrc: ["'self'", 'blob:'],
      },
    },
  }) as Middleware,
);

/**
 * One log line per request (with its id, echoed in X-Request-Id), at a level that follows the status, written
 * when the response is finished (or the connection closed first: 'request aborted'). The line pino-http wrote,
 * without its per-request child logger and serializer closures, a tenth of a busy hook server's request CPU.
 */
export function requestLog(logger: Logger): Middleware {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    setResponseHeaders(res, ['X-Request-Id', id]);
    (req as IncomingMessage & { id?: string }).id = id;
    const started = performance.now();
    // 'close' comes once a response is finished and when its connection closed first: one listener for both.
    res.on('close', () => writeRequestLine(logger, req, res as ServerResponse & ResponseNotes, id, started));
    next();
  };
}

/** A request's URL as logged: a hook call's `callbackUrl` without the credentials it may carry. */
function loggedUrl(url = ''): string {
  return url.includes('callbackUrl=') ? url.replace(/\bcallbackUrl=([^&]*)/g, (_, value: string) => `callbackUrl=${encodeURIComponent(redactedUrl(unescape(value)))}`) : url;
}

function writeRequestLine(logger: Logger, req: IncomingMessage, res: ServerResponse & ResponseNotes, id: string, started: number): void {
  const { statusCode } = res;
  const thrown = (res as { err?: unknown }).err;
  const err = thrown ?? (statusCode >= 500 ? new Error(`failed with status code ${statusCode}`) : undefined);
  const notes = res.locals;
  // A full queue refusing is the server working as meant under load (info); any other 503 (an outage) is a warning.
  const level = notes?.queueFull ? 'info' : thrown || (statusCode >= 500 && statusCode !== 503) ? 'error' : statusCode >= 400 ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const line: Record<string, unknown> = { req: { id, method: req.method, url: loggedUrl(req.url) }, res: { statusCode }, responseTime: Math.round(performance.now() - started) };
  if (err) line.err = err;
  // A refused request's line says why.
  if (notes?.error) line.error = notes.error;
  logger[level](line, err ? 'request errored' : res.writableEnded ? 'request completed' : 'request aborted');
}

/**
 * A body that is not of `type` (`image/*` allowed) is refused with 415: it would otherwise be silently
 * ignored. express's own `req.is`, called on a plain request (it reads only the headers).
 */
export function assertBodyType(req: IncomingMessage, type: string): void {
  // The header as most clients send it needs no parsing.
  if (req.headers['content-type'] === type) return;
  if (req.headers['content-length'] !== '0' && express.request.is.call(req as express.Request, type) === false) {
    throw new HttpError(415, `send the body as ${type}`);
  }
}
