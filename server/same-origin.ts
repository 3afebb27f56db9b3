import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether a request may act on this server: browsers name the page's origin, which must be this
 * host (a page elsewhere must not start runs, upload or listen to run events on 127.0.0.1);
 * clients that send no Origin (curl, apps, server-to-server hooks) are not browsers and pass.
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
