// Callback delivery: finished runs POSTed, signed, to their callers' callback URLs, retried with
// backoff, each attempt recorded, and pending deliveries resumed after a restart.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database, Queries } from '../db';
import { HttpError } from '../http-error';
import { FINISHED, type RunRecord } from '../store/runs';
import { CallbackTargetError, postToTarget, redactedUrl, resolveCallbackTarget } from './callback-target';
import { hookRunDocument } from './hook-runs';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

/** One POST of a finished run to a caller's `callbackUrl`. */
export interface CallbackAttempt {
  attempt: number;
  url: string;
  /** The receiver's HTTP status; null when no answer came (refused, timed out, an internal address). */
  status: number | null;
  error: string | null;
  at: number;
  ms: number;
}

export interface CallbackOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Wait before the second attempt; each later one waits twice as long as the one before. */
  backoffMs: number;
  /** How long one attempt waits for the receiver's answer. */
  timeoutMs: number;
  /** Whether callbacks may reach loopback, private, link-local… addresses (`serve --callback-allow-private`). */
  allowPrivate: boolean;
  /** Whether the server's API requires tokens: the run documents posted then point at the hook's images (see hookRunDocument). */
  apiRequiresTokens: boolean;
}

export const DEFAULT_CALLBACK_OPTIONS: CallbackOptions = { attempts: 5, backoffMs: 1000, timeoutMs: 10_000, allowPrivate: false, apiRequiresTokens: false };

/** A delivery not yet done, as kept in `callback_pending`: the next attempt and when it is due. */
interface PendingDelivery {
  runId: string;
  url: string;
  secret: string;
  /** 1; for a resumed run's delivery, the attempt after those made before: it has attempts of its own. */
  firstAttempt: number;
  nextAttempt: number;
  nextAt: number;
}

/** Resolves once `signal` is aborted. */
function untilAborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', () => resolve(undefined), { once: true })));
}

/**
 * Delivers finished runs to callback URLs: a signed POST of the run document, retried with
 * exponential backoff until the receiver answers 2xx or the attempts run out. Every attempt is
 * recorded and shown in the run's record (`GET /api/runs/:id` → `callbacks`). Deliveries not yet done
 * are kept in the database, so a restart resumes them (`resume()`) with their remaining attempts; a run's
 * callback is kept after its delivery, so that a resumed run is delivered again once it finishes (`rearm()`).
 */
export class CallbackDispatcher {
  /** The delivery under way for each run: one at a time, a resumed run's taking the place of the one before. */
  private readonly active = new Map<string, { stop: AbortController; done: Promise<void> }>();
  private readonly stop = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** A run's record once it has finished (the run manager's `result`). */
    private readonly resultOf: (runId: string) => Promise<RunRecord | undefined>,
    private readonly options: CallbackOptions = DEFAULT_CALLBACK_OPTIONS,
  ) {}

  /** Refuses, with a 400 naming `callbackUrl`, a URL that callbacks may not reach. */
  async checkUrl(url: string): Promise<void> {
    try {
      await resolveCallbackTarget(url, this.options.allowPrivate);
    } catch (err) {
      if (!(err instanceof CallbackTargetError)) throw err;
      throw new HttpError(400, `invalid callbackUrl: ${err.message}`, [{ node: null, field: 'callbackUrl', message: err.message }]);
    }
  }

  /**
   * Posts run `runId` to `url` once it has finished, signed with `secret`; kept in the database until done. Resolves
   * once the delivery is recorded: a caller told of its callback before that could lose it to a crash.
   */
  async deliverWhenDone(runId: string, url: string, secret: string): Promise<void> {
    const delivery: PendingDelivery = { runId, url, secret, firstAttempt: 1, nextAttempt: 1, nextAt: 0 };
    await this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO callback_targets (run_id, url, secret) VALUES (?, ?, ?)', [runId, url, secret]);
      await this.storePending(tx, delivery);
    });
    this.start(delivery);
  }

  /**
   * For a resumed run (`POST /api/runs/:id/resume`): delivers it again once it finishes, its interrupted end having
   * been delivered already, with attempts of its own after those made; a delivery of it still under way gives way.
   * False when the run has no callback.
   */
  async rearm(runId: string): Promise<boolean> {
    const target = await this.db.get<{ url: string; secret: string }>('SELECT url, secret FROM callback_targets WHERE run_id = ?', [runId]);
    if (!target) return false;
    const before = this.active.get(runId);
    before?.stop.abort();
    await before?.done;
    const first = (await this.lastAttempt(runId)) + 1;
    const delivery: PendingDelivery = { runId, url: target.url, secret: target.secret, firstAttempt: first, nextAttempt: first, nextAt: 0 };
    await this.storePending(this.db, delivery);
    this.start(delivery);
    return true;
  }

  /** At start-up: carries on the deliveries a previous process left, each from the attempt after the last one recorded. */
  async resume(): Promise<number> {
    const rows = await this.db.all<{ run_id: string; url: string; secret: string; first_attempt: number; next_attempt: number; next_at: number; last: number | null }>(
      `SELECT p.run_id, p.url, p.secret, p.first_attempt, p.next_attempt, p.next_at, (SELECT MAX(attempt) FROM callback_deliveries d WHERE d.run_id = p.run_id) AS last
       FROM callback_pending p`,
    );
    for (const row of rows) {
      const nextAttempt = Math.max(row.next_attempt, (row.last ?? 0) + 1);
      this.start({ runId: row.run_id, url: row.url, secret: row.secret, firstAttempt: row.first_attempt, nextAttempt, nextAt: row.next_at });
    }
    return rows.length;
  }

  /** A run's delivery attempts, as shown: the URL without its credentials (they stay stored for delivery). */
  async attempts(runId: string): Promise<CallbackAttempt[]> {
    const rows = await this.db.all<CallbackAttempt>('SELECT attempt, url, status, error, at, ms FROM callback_deliveries WHERE run_id = ? ORDER BY attempt', [runId]);
    return rows.map((row) => ({ ...row, url: redactedUrl(row.url) }));
  }

  /** Stops retrying (waits are cut short; what is left stays stored for the next start) and waits for attempts under way; before the database closes. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all([...this.active.values()].map((delivery) => delivery.done));
  }

  private storePending(db: Queries, delivery: PendingDelivery): Promise<unknown> {
    return db.run('INSERT OR REPLACE INTO callback_pending (run_id, url, secret, first_attempt, next_attempt, next_at) VALUES (?, ?, ?, ?, ?, ?)', [
      delivery.runId,
      delivery.url,
      delivery.secret,
      delivery.firstAttempt,
      delivery.nextAttempt,
      delivery.nextAt,
    ]);
  }

  private async lastAttempt(runId: string): Promise<number> {
    return (await this.db.get<{ last: number | null }>('SELECT MAX(attempt) AS last FROM callback_deliveries WHERE run_id = ?', [runId]))?.last ?? 0;
  }

  private start(delivery: PendingDelivery): void {
    const stop = new AbortController();
    const done: Promise<void> = this.deliver(delivery, AbortSignal.any([this.stop.signal, stop.signal]))
      .catch((err) => this.logger.error({ err, runId: delivery.runId, url: redactedUrl(delivery.url) }, 'callback delivery broke'))
      .finally(() => {
        if (this.active.get(delivery.runId)?.done === done) this.active.delete(delivery.runId);
      });
    this.active.set(delivery.runId, { stop, done });
  }

  /** Delivers until an attempt succeeds or the delivery's attempts run out; stops where it is when `signal` aborts. */
  private async deliver(delivery: PendingDelivery, signal: AbortSignal): Promise<void> {
    // A shutdown does not wait for runs to finish: the delivery stays stored.
    const run = await Promise.race([this.resultOf(delivery.runId), untilAborted(signal)]);
    if (signal.aborted) return;
    if (!run || !FINISHED.has(run.status)) {
      this.logger.warn({ runId: delivery.runId, status: run?.status }, 'callback dropped: the run is unknown or will not finish');
      return this.forget(delivery.runId);
    }
    const body = JSON.stringify(hookRunDocument(run, this.options.apiRequiresTokens));
    const last = delivery.firstAttempt + this.options.attempts - 1;
    for (let attempt = delivery.nextAttempt; attempt <= last; attempt++) {
      // the backoff wait, cut short by a shutdown
      await sleep(Math.max(0, delivery.nextAt - Date.now()), undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      const result = await this.post(delivery, body, attempt, signal);
      await this.db.run('INSERT INTO callback_deliveries (run_id, attempt, url, status, error, at, ms) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        run.id,
        attempt,
        delivery.url,
        result.status,
        result.error,
        result.at,
        result.ms,
      ]);
      if (result.error === null || attempt === last) return this.forget(run.id);
      this.logger.warn({ runId: run.id, url: redactedUrl(delivery.url), attempt, status: result.status, error: result.error }, 'callback attempt failed');
      delivery.nextAt = Date.now() + this.options.backoffMs * 2 ** (attempt - delivery.firstAttempt);
      await this.db.run('UPDATE callback_pending SET next_attempt = ?, next_at = ? WHERE run_id = ?', [attempt + 1, delivery.nextAt, run.id]);
    }
    // Every attempt was recorded before a crash could forget the delivery.
    await this.forget(run.id);
  }

  private async forget(runId: string): Promise<void> {
    await this.db.run('DELETE FROM callback_pending WHERE run_id = ?', [runId]);
  }

  /** One attempt; the URL is resolved and checked again (DNS may have changed since the call) and the POST goes to the address checked. */
  private async post({ url, secret, runId }: PendingDelivery, body: string, attempt: number, signal: AbortSignal): Promise<Omit<CallbackAttempt, 'attempt' | 'url'>> {
    const at = Date.now();
    try {
      const target = await resolveCallbackTarget(url, this.options.allowPrivate);
      const headers = {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signatureHeader(secret, body),
        'Picflow-Run-Id': runId,
        'Picflow-Delivery-Attempt': String(attempt),
      };
      const status = await postToTarget(target, headers, body, AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), signal]));
      const ok = status >= 200 && status < 300;
      return { status, error: ok ? null : `the receiver answered ${status}`, at, ms: Date.now() - at };
    } catch (err) {
      const reason = err instanceof CallbackTargetError ? `refused: ${err.message}` : `no answer: ${(err as Error).message}`;
      return { status: null, error: reason, at, ms: Date.now() - at };
    }
  }
}
