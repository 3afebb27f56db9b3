// Answers written with Node's own response API: the hook door answers without express, and a handler that
// writes no more than this skips express's per-response work (ETag hashing, freshness checks).
import type { ServerResponse } from 'node:http';

/**
 * Responses whose headers are gathered (name, value, name, value, ...) and written with their head, in one
 * `writeHead`: the hook door's. `setHeader` validates and stores each header as it is set, and the security
 * headers set one by one were a fifteenth of a busy hook server's main thread.
 */
const GATHERED = Symbol('headers gathered for the head');

/** Where a response gathers its headers: a property, not a WeakMap (a WeakMap entry per request is work for every collection). */
type Gathering = ServerResponse & { [GATHERED]?: string[] };

/** From now on, the headers set through `setResponseHeaders` on this response wait for its head. */
export function gatherHeaders(res: ServerResponse): void {
  (res as Gathering)[GATHERED] = [];
}

/** Sets headers (name, value, ...; a name may come again for a second value): gathered for the head where the response gathers them, else at once. */
export function setResponseHeaders(res: ServerResponse, headers: readonly string[]): void {
  const head = (res as Gathering)[GATHERED];
  if (head) {
    for (const field of headers) head.push(field);
    return;
  }
  for (let i = 0; i < headers.length; i += 2) {
    // A name met again in this call adds its value, as it does to a gathered head; met first, it sets the header.
    if (namedBefore(headers, i)) res.appendHeader(headers[i], headers[i + 1]);
    else res.setHeader(headers[i], headers[i + 1]);
  }
}

/** Whether the name at `at` of a name, value, ... list came earlier in it. */
function namedBefore(headers: readonly string[], at: number): boolean {
  for (let i = 0; i < at; i += 2) if (headers[i] === headers[at]) return true;
  return false;
}

/** `body` as JSON with `status` (and extra headers). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendBytes(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/** `body` (text or bytes) as `type` with `status` (and extra headers). */
export function sendBytes(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  const length = String(Buffer.byteLength(body));
  const head = (res as Gathering)[GATHERED];
  if (head) {
    for (const name in headers) if (Object.hasOwn(headers, name)) head.push(name, headers[name]);
    head.push('Content-Type', type, 'Content-Length', length);
    res.writeHead(status, head);
  } else {
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': length });
  }
  res.end(body);
}
