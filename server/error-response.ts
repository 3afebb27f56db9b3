// The one mapping of errors to responses (`{ error, errors? }` with a status), written with Node's own response
// API so that the express app and the hook door (hooks/door.ts), which answers without express, share it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import multer from 'multer';
import { formatIssue } from '../engine/contract';
import { WorkflowError } from '../engine/workflow';
import type { Limits } from './context';
import { HttpError } from './http-error';
import { sendJson } from './plain-response';
import { QueueClosedError, QueueFullError, QueueUnavailableError, RunStateError, UnknownRunError } from './run-errors';

type Described = Pick<HttpError, 'status' | 'message' | 'errors' | 'headers'>;

/** What the request log (common-middleware.ts) reads of a response: the error of its line, and whether a full queue refused it. */
export interface ResponseNotes {
  locals?: { error?: string; queueFull?: boolean };
}

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

function describe(err: unknown, limits: Limits): Described {
  if (err instanceof HttpError) return err;
  const runError = describeRunError(err);
  if (runError) return runError;
  if (err instanceof multer.MulterError) {
    const tooLarge = err.code === 'LIMIT_FILE_SIZE';
    return {
      status: tooLarge ? 413 : 400,
      message: tooLarge ? `the upload is larger than the limit of ${limits.uploadBytes} bytes` : `bad upload: ${err.message}`,
      headers: {},
    };
  }
  // body-parser's errors carry a type and a status that is safe to show.
  const { type, status, expose, message, limit } = err as { type?: string; status?: number; expose?: boolean; message?: string; limit?: number };
  if (type === 'entity.parse.failed') return { status: 400, message: `malformed JSON body: ${message}`, headers: {} };
  // The parser's own limit: a JSON body's, or an image upload's (hook uploads take the image as the body).
  if (type === 'entity.too.large') return { status: 413, message: `the body is larger than the limit of ${limit ?? limits.jsonBytes} bytes`, headers: {} };
  // express's router cannot decode a path segment (`%E0%A4%A`): the client's mistake, not the server's.
  if (err instanceof URIError && status === 400) return { status, message: `malformed path: ${message}`, headers: {} };
  if (expose && typeof status === 'number' && status >= 400 && status < 500) return { status, message: message ?? 'bad request', headers: {} };
  return { status: 500, message: 'internal server error', headers: {} };
}

/** Answers `err` as `{ error, errors? }`: a 4xx that says what was wrong, a 503 that says when to retry, or a logged 500. */
export function sendError(err: unknown, _req: IncomingMessage, res: ServerResponse & ResponseNotes, limits: Limits): void {
  if (res.headersSent) {
    // The response was under way (a stream broke): nothing sensible can follow it.
    res.destroy();
    return;
  }
  const { status, message, errors, headers } = describe(err, limits);
  res.locals ??= Object.create(null);
  // The request's log line carries the error: its stack for a 500, its message otherwise.
  // The request log (common-middleware.ts) writes `res.err` (with its stack) on the request's line.
  if (status >= 500 && status !== 503) (res as { err?: unknown }).err = err;
  else res.locals!.error = message;
  res.locals!.queueFull = err instanceof QueueFullError;
  sendJson(res, status, { error: message, ...(errors && { errors }) }, headers);
}
