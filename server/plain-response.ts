// Answers written with Node's own response API: the hook door answers without express, and a handler that
// writes no more than this skips express's per-response work (ETag hashing, freshness checks).
import type { ServerResponse } from 'node:http';

/** `body` as JSON with `status` (and extra headers). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendBytes(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/** `body` (text or bytes) as `type` with `status` (and extra headers). */
export function sendBytes(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}
