// The hook door's JSON body. The common call (a Content-Length within the limit, no Content-Encoding, UTF-8) is
// read and parsed here on Node's own request; any other goes to express.json itself. body-parser's path (type-is,
// content-type, iconv-lite, raw-body) cost as much CPU as the echo run it fed. Errors carry body-parser's `type`,
// so that error-response.ts answers both paths alike; the raw bytes are kept for signature checks either way.
import type { IncomingMessage } from 'node:http';
import express from 'express';
import type { Middleware } from '../common-middleware';
import { rawBodies } from './access';

/** The media types the fast path reads (the door has already refused other types with 415). */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
/** JSON.parse takes any value; body-parser's strict mode (its default) takes only objects and arrays. */
const STARTS_OBJECT_OR_ARRAY = /^[\x20\x09\x0a\x0d]*[[{]/;

type WithBody = IncomingMessage & { body?: unknown };

/** An error as body-parser makes them (`type`, `status`, `expose`). */
function bodyError(type: string, status: number, message: string, cause?: Error): Error {
  return Object.assign(cause ?? new Error(message), { type, status, expose: true });
}

function parse(req: WithBody, raw: Buffer): void {
  rawBodies.set(req, raw);
  // iconv-lite's UTF-8 decoder, which body-parser uses, drops a byte order mark.
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  if (text.length === 0) {
    req.body = {};
    return;
  }
  if (!STARTS_OBJECT_OR_ARRAY.test(text)) throw bodyError('entity.parse.failed', 400, `Unexpected token '${text.trim()[0] ?? ''}', JSON body must be an object or array`);
  try {
    req.body = JSON.parse(text);
  } catch (err) {
    throw bodyError('entity.parse.failed', 400, '', err as Error);
  }
}

/** Reads `req`'s JSON body into `req.body` (up to `limitBytes`), as express.json with the hook router's options. */
export function hookJsonBody(limitBytes: number): Middleware {
  const general = express.json({ limit: limitBytes, verify: (req, _res, buf) => rawBodies.set(req as IncomingMessage, buf) }) as Middleware;
  return (req, res, next) => {
    const length = req.headers['content-length'];
    const expected = length === undefined ? Number.NaN : Number(length);
    const plain = req.headers['content-encoding'] === undefined && PLAIN_JSON.test(req.headers['content-type'] ?? '');
    if (!plain || !Number.isSafeInteger(expected) || expected > limitBytes) return general(req, res, next);
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (err?: Error) => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('aborted', onAborted);
      next(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (received !== expected) return finish(bodyError('request.size.invalid', 400, 'request size did not match content length'));
      try {
        parse(req, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
        finish();
      } catch (err) {
        finish(err as Error);
      }
    };
    const onError = (err: Error) => finish(bodyError('request.aborted', 400, 'request aborted', err));
    const onAborted = () => finish(bodyError('request.aborted', 400, 'request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  };
}
