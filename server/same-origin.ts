// The same-origin rule for browsers' requests and socket connections (no cross-site runs on 127.0.0.1).
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from './http-error';

/**
 * Whether a request may act on this server: browsers name the page's origin, which must be this
 * host (a page elsewhere must not start runs, upload or listen to run events on 127.0.0.1);
 * clients that send no Origin (curl, apps, server-to-server hooks) are not browsers and pass.
 * The Host itself is checked against the allow-list first (server/auth/hosts.ts): a rebound name
 * would make a foreign page's Origin match it.
 */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const { origin, host } = headers;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false; // `Origin: null` (sandboxed frames, file:// pages) included
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Methods that only read: no Origin check for them, and the read scope suffices. */
export const isSafeMethod = (method: string): boolean => SAFE_METHODS.has(method);

/** Throws the 403 a request from another origin's page gets. */
export function assertSameOrigin(headers: IncomingHttpHeaders): void {
  if (!sameOrigin(headers)) throw new HttpError(403, `cross-origin request refused: ${headers.origin} is not this server`);
}
