// The API token, when the server asks for one (it answers 401): asked for once in a dialog, kept in
// this browser's localStorage, sent as `Authorization: Bearer` on every request and in socket.io's
// handshake. Requests that meet a 401 wait for the one dialog, then retry with the new token.

import { Observable } from './store';

const STORAGE_KEY = 'picflow.apiToken';

function stored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage blocked: the token lives for this page only
  }
}

/** The token in use (null: none asked for yet). */
export const apiToken = new Observable<string | null>(stored());

/** The open question, while the token dialog is shown. */
export interface TokenQuestion {
  /** Why it is asked again: the server's refusal of the token given (empty when none was). */
  reason: string;
  answer(token: string | null): void;
}
export const tokenQuestion = new Observable<TokenQuestion | null>(null);

let pending: Promise<boolean> | null = null;

export function authHeaders(): Record<string, string> {
  const token = apiToken.get();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * After a 401 for a request sent with `sentWith`: resolves true once there is a token worth trying
 * (a newer one, or one entered now), false when the person declined. Concurrent callers share one dialog.
 */
export function needToken(sentWith: string | null, reason: string): Promise<boolean> {
  if (apiToken.get() !== sentWith) return Promise.resolve(true);
  pending ??= new Promise<boolean>((resolve) => {
    tokenQuestion.set({
      reason,
      answer: (token) => {
        tokenQuestion.set(null);
        pending = null;
        if (token) {
          apiToken.set(token);
          try {
            localStorage.setItem(STORAGE_KEY, token);
          } catch {
            /* kept in memory only */
          }
        }
        resolve(token !== null);
      },
    });
  });
  return pending;
}

/** fetch with the token; on 401 asks for one and tries again, until it passes or the person declines. */
export async function authorizedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const sentWith = apiToken.get();
    const response = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...authHeaders() } });
    if (response.status !== 401) return response;
    const reason = sentWith
      ? await response
          .clone()
          .json()
          .then((body: { error?: unknown }) => (typeof body.error === 'string' ? body.error : 'the token was refused'))
          .catch(() => 'the token was refused')
      : '';
    if (!(await needToken(sentWith, reason))) return response;
  }
}
