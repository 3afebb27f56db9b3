// HMAC signatures of hook requests and callbacks (`Picflow-Signature`): made and checked.

import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signatures, the same both ways: picflow signs callbacks with a trigger's secret, and
 * callers may sign hook requests with it. `Picflow-Signature: t=<unix seconds>,v1=<hex>`, where the
 * hex is HMAC-SHA256(secret, "<t>.<raw body>"). The timestamp bounds replays to `TOLERANCE_S`.
 */
export const SIGNATURE_HEADER = 'Picflow-Signature';
const TOLERANCE_S = 300;

function digest(secret: string, timestamp: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

export function signatureHeader(secret: string, body: string | Uint8Array, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${digest(secret, timestamp, body).toString('hex')}`;
}

/** Whether a `Picflow-Signature` header signs this body with this secret, recently enough. */
export function signatureValid(secret: string, header: string | undefined, body: string | Uint8Array, now = Date.now()): boolean {
  const match = header?.match(/^t=(\d{1,12}),v1=([0-9a-f]{64})$/);
  if (!match || secret === '') return false;
  const timestamp = Number(match[1]);
  if (Math.abs(now / 1000 - timestamp) > TOLERANCE_S) return false;
  return timingSafeEqual(digest(secret, timestamp, body), Buffer.from(match[2], 'hex'));
}
