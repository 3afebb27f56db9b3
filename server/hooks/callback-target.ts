// Where a callback may go: a callback URL parsed, resolved and refused when it reaches an internal
// address, and pinned to the address it was checked at.

import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Why a callback URL may not be called: a scheme other than http(s), a host that does not resolve, or an internal address. */
export class CallbackTargetError extends Error {}

/**
 * Addresses a callback must not reach unless the operator allows them: the server's own machine, its
 * networks and their metadata services. BlockList checks an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * against the IPv4 subnets too.
 */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // unspecified, "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata: 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.168.0.0', 16], // private
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

export function isInternalAddress(address: string): boolean {
  return INTERNAL.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** Query parameters whose values are taken for secrets when a callback URL is shown. */
const SECRET_QUERY = /token|secret|key|pass|auth|sig|code/i;

/**
 * A callback URL as it may be shown (run records, logs): `user:pass@` credentials become `***@`, and the values of
 * query parameters that look like secrets (`?token=`, `api_key`, `sig`, …) become `***`. Receivers authenticated
 * that way get them with each POST, but anyone with a read token sees run records.
 */
export function redactedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw; // never stored: a callback URL is parsed before it is taken
  }
  const secretParams = [...new Set(url.searchParams.keys())].filter((name) => SECRET_QUERY.test(name));
  if (url.username === '' && url.password === '' && secretParams.length === 0) return raw;
  if (url.username !== '' || url.password !== '') {
    url.username = '***';
    url.password = '';
  }
  for (const name of secretParams) url.searchParams.set(name, '***');
  return url.href;
}

/** A callback URL with the address it was checked at; deliveries connect to that address and no other. */
export interface CallbackTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/**
 * Parses and resolves a callback URL; refuses non-http(s) schemes and, unless `allowInternal`, a host
 * any of whose addresses is internal (a name with one public and one private address is refused).
 */
export async function resolveCallbackTarget(raw: string, allowInternal: boolean): Promise<CallbackTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackTargetError(`'${raw}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CallbackTargetError(`only http and https callbacks are sent, not ${url.protocol}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  const addresses = literal
    ? [{ address: host, family: literal }]
    : await lookup(host, { all: true, verbatim: true }).catch((err: NodeJS.ErrnoException) => {
        throw new CallbackTargetError(`the host ${host} does not resolve (${err.code ?? err.message})`);
      });
  if (addresses.length === 0) throw new CallbackTargetError(`the host ${host} has no address`);
  const internal = allowInternal ? undefined : addresses.find((a) => isInternalAddress(a.address));
  if (internal) {
    throw new CallbackTargetError(
      `${host} is ${internal.address === host ? '' : `at ${internal.address}, `}an internal address (loopback, private, link-local, CGNAT, multicast or unspecified); the operator can allow these with \`serve --callback-allow-private\``,
    );
  }
  return { url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

/** A DNS lookup that answers the checked address whatever the name resolves to now. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_host, options, callback) => {
    // Node's connect asks for all addresses when it may try several families (autoSelectFamily).
    if (options.all) (callback as unknown as (err: null, all: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** POSTs `body` to the target's checked address (TLS still verifies the URL's host name); resolves to the HTTP status. Redirects are not followed. */
export function postToTarget(target: CallbackTarget, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target.url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: pinnedLookup(target.address, target.family), signal },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
