// Who a request (or socket) is and what it may do: token and scope checks for HTTP and socket.io.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import { HttpError } from '../http-error';
import { assertSameOrigin, isSafeMethod } from '../same-origin';
import { bearerToken } from './bearer';
import type { HostAllowList } from './hosts';
import { grants, type Scope } from './scopes';
import type { ApiToken, TokenStore } from './token-store';

/** Who makes a request: a token, or anyone (auth off: loopback without `--auth`), who may do everything. */
export type Principal = { token: ApiToken; scope: Scope } | { token: null; scope: 'admin' };

const ANYONE: Principal = { token: null, scope: 'admin' };

/** What a request needs when its route asks for nothing more: reading for safe methods, running otherwise. */
const scopeForMethod = (method: string): Scope => (isSafeMethod(method) ? 'read' : 'run');

const unauthorized = (message: string) => new HttpError(401, message, undefined, { 'WWW-Authenticate': 'Bearer realm="picflow"' });

/**
 * The one place that decides who may talk to this server: the Host allow-list on every request and
 * upgrade, and (when auth is on) API tokens with scopes. Every `/api` route is already behind
 * `access.require()`; routes elsewhere (ComfyUI's `/prompt`, …) mount it themselves, with a scope when
 * the method's default (read for GET/HEAD/OPTIONS, run otherwise) is not enough. A plain WebSocket
 * endpoint calls `await access.authorize(req)` in its upgrade handler and hands a throw to
 * `Access.refuseUpgrade(socket, err)`; Host and Origin of every upgrade are checked before it by
 * `guardUpgrades`.
 */
export class Access {
  constructor(
    private readonly options: {
      hosts: HostAllowList;
      tokens: TokenStore;
      /** Whether a token is required: always off the loopback, on it with `--auth`. */
      enabled: boolean;
    },
  ) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Express: refuses, with 403, any request whose Host this server does not answer to. */
  readonly checkHost: RequestHandler = (req, _res, next) => {
    this.assertHost(req);
    next();
  };

  /** For connections that bypass express (upgrades, socket.io's handshake): throws the 403 of a foreign Host or page. */
  assertConnection(req: IncomingMessage): void {
    this.assertHost(req);
    assertSameOrigin(req.headers);
  }

  /**
   * Refuses, with 403, every WebSocket upgrade of a foreign Host or a foreign page's Origin, before
   * any upgrade handler (socket.io, ComfyUI's /ws) sees it: they find the socket already closed.
   */
  guardUpgrades(http: HttpServer): void {
    http.prependListener('upgrade', (req: IncomingMessage, socket: Duplex) => {
      try {
        this.assertConnection(req);
      } catch (err) {
        Access.refuseUpgrade(socket, err);
      }
    });
  }

  /**
   * Express: the request's token must grant `scope` (by default read for GET/HEAD/OPTIONS, run for
   * the rest); 401 without a valid token, 403 for one whose scope is too low. The token found is kept
   * in `res.locals.principal`, so a route's stricter guard after the /api one does not look it up again.
   */
  // Generic in the route's params only so that mounting it keeps express's typing of the handlers after it.
  require<P = Record<string, string>>(scope?: Scope): RequestHandler<P> {
    return async (req, res, next) => {
      res.locals.principal = await this.check(req.headers.authorization, scope ?? scopeForMethod(req.method), res.locals.principal);
      next();
    };
  }

  /**
   * For an upgrade (WebSocket) or any raw request: the Host, then the token (`Authorization: Bearer`,
   * or `presented`, say from a socket.io handshake). Throws an HttpError (403 host, 401, 403 scope).
   */
  async authorize(req: IncomingMessage, options: { scope?: Scope; presented?: unknown } = {}): Promise<Principal> {
    this.assertHost(req);
    const token = typeof options.presented === 'string' && options.presented !== '' ? `Bearer ${options.presented}` : req.headers.authorization;
    return this.check(token, options.scope ?? 'read');
  }

  /** Whether a principal still holds (its token may have been revoked since it connected). */
  async stillValid(principal: Principal): Promise<boolean> {
    return principal.token === null || this.options.tokens.exists(principal.token.id);
  }

  /** Hands an upgrade the refusal it earned: the status line and a one-line reason, then closes it. */
  static refuseUpgrade(socket: Duplex, err: unknown): void {
    const { status, message, headers } = err instanceof HttpError ? err : { status: 500, message: 'internal server error', headers: {} };
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const body = JSON.stringify({ error: message });
    socket.on('error', () => undefined); // the client may be gone already: nothing to tell it
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error'}\r\n` +
        `Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
      () => socket.destroy(),
    );
  }

  private assertHost(req: IncomingMessage): void {
    if (!this.options.hosts.allows(req.headers.host)) throw new HttpError(403, this.options.hosts.describe(req.headers.host));
  }

  private async check(authorization: string | undefined, needed: Scope, known?: Principal): Promise<Principal> {
    if (!this.options.enabled) return ANYONE;
    // A route's own guard after the /api one: the token was already looked up for this request.
    let principal = known;
    if (!principal) {
      const presented = bearerToken(authorization);
      if (presented === undefined) throw unauthorized('this server needs an API token: send `Authorization: Bearer <token>` (create one with `picflow token create`)');
      const token = await this.options.tokens.verify(presented);
      if (!token) throw unauthorized('the API token is not valid (unknown or revoked)');
      principal = { token, scope: token.scope };
    }
    if (!grants(principal.scope, needed)) {
      throw new HttpError(403, `this needs a token with the ${needed} scope; token '${principal.token?.name ?? ''}' has ${principal.scope}`, undefined, {
        'WWW-Authenticate': `Bearer realm="picflow", error="insufficient_scope", scope="${needed}"`,
      });
    }
    return principal;
  }
}
