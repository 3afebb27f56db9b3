// Who may call a hook: the trigger a request is for, its token or signature checked, CORS for its
// allowed origins, and its own rate limit.

import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { bearerToken } from '../auth/bearer';
import { HttpError } from '../http-error';
import { sameOrigin } from '../same-origin';
import { tokenMatches, type Trigger } from '../store/triggers';
import { SIGNATURE_HEADER, signatureValid } from './signature';

/** A hook's response: express's, or the hook door's plain one with the same `locals`. */
export type HookResponse = ServerResponse & { locals: Record<string, unknown> };

/** The trigger a `/hooks/:slug/...` request is for, put there by the hook router or the hook door. */
export function triggerOf(res: { locals: Record<string, unknown> }): Trigger {
  return res.locals.trigger as Trigger;
}

/** Raw bodies of hook requests, for checking their signatures. */
export const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/**
 * A protected trigger (one with a token, or requiring signatures) takes a call that carries its bearer
 * token or a valid `Picflow-Signature` of the raw body with its secret; anything else is a 401.
 */
export function authorize(trigger: Trigger, req: IncomingMessage): void {
  const protectedByToken = trigger.tokenHash !== null;
  if (!protectedByToken && !trigger.requireSignature) return;
  if (protectedByToken && tokenMatches(trigger, bearerToken(req.headers.authorization))) return;
  const signature = req.headers[SIGNATURE_HEADER.toLowerCase()];
  if (signatureValid(trigger.secret, typeof signature === 'string' ? signature : undefined, rawBodies.get(req) ?? '')) return;
  const ways = [protectedByToken && '`Authorization: Bearer <token>` with its token', `a \`${SIGNATURE_HEADER}\` header signed with its secret`].filter(Boolean);
  throw new HttpError(401, `trigger '${trigger.slug}' needs ${ways.join(' or ')}`, undefined, { 'WWW-Authenticate': 'Bearer realm="picflow"' });
}

const CORS_OPTIONS = {
  methods: ['GET', 'POST'],
  allowedHeaders: ['Content-Type', 'Authorization', 'Accept', 'Prefer', SIGNATURE_HEADER],
  exposedHeaders: ['Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'X-Request-Id', 'Picflow-Run-Id'],
  maxAge: 600,
};

/**
 * Browsers on the trigger's allowed origins get CORS headers (and their preflights pass); any other
 * origin is refused, as on the rest of the API. Clients that send no Origin are not browsers and pass.
 */
export const hookOrigin = (req: IncomingMessage, res: HookResponse, next: (err?: unknown) => void): void => {
  const trigger = triggerOf(res);
  const origin = req.headers.origin;
  if (origin === undefined || sameOrigin(req.headers)) return next();
  if (!trigger.allowedOrigins.includes(origin)) {
    throw new HttpError(403, `cross-origin request refused: ${origin} is not an allowed origin of trigger '${trigger.slug}'`);
  }
  cors({ ...CORS_OPTIONS, origin })(req, res, next);
};

const perClientLimit = rateLimit({
  windowMs: 60_000,
  limit: (_req, res) => triggerOf(res).rateLimit ?? 0,
  skip: (req) => req.method === 'OPTIONS',
  // The peer's address, as express's req.ip gives it without 'trust proxy' (the hook door's requests are plain Node ones).
  keyGenerator: (req, res) => `${triggerOf(res).slug} ${ipKeyGenerator(req.socket.remoteAddress ?? '')}`,
  standardHeaders: 'draft-8',
  legacyHeaders: false,
  handler: (_req, res, next) => {
    const trigger = triggerOf(res);
    next(new HttpError(429, `trigger '${trigger.slug}' takes ${trigger.rateLimit} calls and uploads per minute per client; try again later`, undefined, {
      'Retry-After': String(res.getHeader('Retry-After') ?? 60),
    }));
  },
});

/**
 * Each trigger's own limit of calls and uploads per minute per client (by IP); 429 with Retry-After beyond it. Most
 * triggers have none: their calls skip express-rate-limit's per-request (async) work.
 */
export function hookRateLimit(req: IncomingMessage, res: HookResponse, next: (err?: unknown) => void): void {
  if (triggerOf(res).rateLimit === null) next();
  else void perClientLimit(req as Parameters<typeof perClientLimit>[0], res as Parameters<typeof perClientLimit>[1], next);
}
