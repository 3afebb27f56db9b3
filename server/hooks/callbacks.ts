import type { Logger } from 'pino';
import type { Database } from '../db';
import { toRunDocument } from '../run-document';
import type { RunRecord } from '../store/runs';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

/** One POST of a finished run to a caller's `callbackUrl`. */
export interface CallbackAttempt {
  attempt: number;
  url: string;
  /** The receiver's HTTP status; null when no answer came (refused, timed out). */
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
}

export const DEFAULT_CALLBACK_OPTIONS: CallbackOptions = { attempts: 5, backoffMs: 1000, timeoutMs: 10_000 };

/**
 * Delivers finished runs to callback URLs: a signed POST of the run document, retried with
 * exponential backoff until the receiver answers 2xx or the attempts run out. Every attempt is
 * recorded and shown in the run's record (`GET /api/runs/:id` → `callbacks`).
 */
export class CallbackDispatcher {
  private readonly pending = new Set<Promise<void>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: CallbackOptions = DEFAULT_CALLBACK_OPTIONS,
  ) {}

  /** Posts the run to `url` once it has finished (`done`), signed with `secret`. */
  deliverWhenDone(done: Promise<RunRecord | undefined>, url: string, secret: string): void {
    const delivery = done
      .then((run) => run && this.deliver(run, url, secret))
      .catch((err) => this.logger.error({ err, url }, 'callback delivery broke'))
      .finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  async attempts(runId: string): Promise<CallbackAttempt[]> {
    return this.db.all<CallbackAttempt>('SELECT attempt, url, status, error, at, ms FROM callback_deliveries WHERE run_id = ? ORDER BY attempt', [runId]);
  }

  /** Stops retrying (waits are cut short) and waits for attempts under way; before the database closes. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.pending);
  }

  private async deliver(run: RunRecord, url: string, secret: string): Promise<void> {
    const body = JSON.stringify(toRunDocument(run));
    for (let attempt = 1; attempt <= this.options.attempts && !this.stop.signal.aborted; attempt++) {
      if (attempt > 1) await this.wait(this.options.backoffMs * 2 ** (attempt - 2));
      if (this.stop.signal.aborted) break;
      const result = await this.post(url, body, secret, attempt, run.id);
      await this.db.run('INSERT INTO callback_deliveries (run_id, attempt, url, status, error, at, ms) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        run.id,
        attempt,
        url,
        result.status,
        result.error,
        result.at,
        result.ms,
      ]);
      if (result.error === null) return;
      this.logger.warn({ runId: run.id, url, attempt, status: result.status, error: result.error }, 'callback attempt failed');
    }
  }

  private async post(url: string, body: string, secret: string, attempt: number, runId: string): Promise<Omit<CallbackAttempt, 'attempt' | 'url'>> {
    const at = Date.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signatureHeader(secret, body),
          'Picflow-Run-Id': runId,
          'Picflow-Delivery-Attempt': String(attempt),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stop.signal]),
      });
      await response.body?.cancel();
      const ok = response.status >= 200 && response.status < 300;
      return { status: response.status, error: ok ? null : `the receiver answered ${response.status}`, at, ms: Date.now() - at };
    } catch (err) {
      return { status: null, error: `no answer: ${(err as Error).message}`, at, ms: Date.now() - at };
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.stop.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.stop.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
