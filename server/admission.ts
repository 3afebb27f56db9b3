/**
 * Admission before work: a request that would start a run (POST /api/runs, POST /hooks/:slug) takes
 * its place in the queue first. At the door (before the express app: no headers middleware, body
 * parsing, routing or per-request log line), a full queue is refused with 503 + Retry-After; what is
 * refused is logged as one line a second.
 *
 * A queue-full refusal is answered after a pause (`refusalDelayMs`, 1 s, never past Retry-After). A
 * client that retries at once, heeding no Retry-After, would otherwise fill every event-loop turn
 * with refusals; the runs already accepted need several sqlite round trips each, one per turn, and
 * would crawl (bench/server.ts at 1,000 connections: 3 answered runs/s without the pause, against
 * 250 at 16 connections). Paused, such clients cost about one cheap refusal each a second.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { QueueClosedError, QueueFullError, QueueUnavailableError } from './run-errors';
import type { Admission, RunManager } from './run-manager';

/** The express path of the requests that start a run in the app (a hook's call is served by the hook door). */
export const RUN_STARTS = ['/api/runs'];
/** The same, for the door (express routes are case-insensitive, a trailing slash allowed). */
const STARTS_RUN = /^\/(api\/runs|hooks\/[^/?]+)\/?(\?|$)/i;

const admitted = new WeakMap<IncomingMessage, Admission>();

/** Serves some run-starting requests itself, with the place taken at the door, instead of the app (hooks/door.ts). */
export interface DoorHandler {
  handles(req: IncomingMessage): boolean;
  serve(req: IncomingMessage, res: ServerResponse, admission: Admission): void;
}

/** Wraps the app: run-starting requests are admitted (or refused) before it sees them; those `door` handles go there instead. */
export function admitAtTheDoor(manager: RunManager, logger: Logger, app: RequestListener, door: DoorHandler, refusalDelayMs = 1_000): RequestListener {
  let refused = 0;
  let reason = '';
  const report = setInterval(() => {
    if (refused > 0) logger.info({ refused, reason }, 'requests refused before any work');
    refused = 0;
  }, 1_000);
  report.unref();
  return (req, res) => {
    if (req.method === 'POST' && STARTS_RUN.test(req.url ?? '')) {
      let admission: Admission;
      try {
        admission = manager.admit();
      } catch (err) {
        if (!(err instanceof QueueFullError || err instanceof QueueClosedError || err instanceof QueueUnavailableError)) throw err;
        refused++;
        reason = err.message;
        const pause = err instanceof QueueFullError ? Math.min(refusalDelayMs, err.retryAfterSeconds * 1000) : 0;
        if (pause > 0) setTimeout(() => refuse(res, err), pause).unref();
        else refuse(res, err);
        return;
      }
      res.once('close', admission.release);
      if (door.handles(req)) return door.serve(req, res, admission);
      admitted.set(req, admission);
    }
    app(req, res);
  };
}

function refuse(res: ServerResponse, err: QueueFullError | QueueClosedError | QueueUnavailableError): void {
  if (res.destroyed) return;
  const body = JSON.stringify({ error: err.message });
  res.writeHead(503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...('retryAfterSeconds' in err && { 'Retry-After': String(err.retryAfterSeconds) }),
  });
  res.end(body);
}

/** For the run-starting routes: the place taken at the door, or one taken now (an app mounted without the door, as in tests of the app alone). */
export function admitRun(manager: RunManager): RequestHandler {
  return (req, res, next) => {
    let admission = admitted.get(req);
    if (!admission) {
      admission = manager.admit();
      res.once('close', admission.release);
    }
    res.locals.admission = admission;
    next();
  };
}

/** The place `admitRun` found for this request. */
export function admissionOf(res: Response): Admission {
  return res.locals.admission as Admission;
}
