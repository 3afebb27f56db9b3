// Cross-run batching on the device queue: compatible model calls that wait while a batch runs go together.
import type { DeviceQueue } from './queue';

/** A call waiting to join a batch: how many rows it brings and its cancel signal. */
export interface BatchMember {
  rows: number;
  signal?: AbortSignal;
  /** Settles the call's own promise with an error (cancelled before its batch began, or its batch failed). */
  fail(reason: unknown): void;
}

/**
 * Gathers compatible calls of different runs into batches on the device queue: the calls that arrive
 * while a batch runs (or waits) join the next batch for their key, up to `maxRows` rows; a call that
 * alone brings more still runs, alone. Nothing waits to fill a batch: a lone call starts at once.
 */
export class CallBatcher<M extends BatchMember> {
  /** Per key, the batch still open to joiners (queued, not started). */
  private readonly open = new Map<string, M[]>();

  constructor(
    private readonly queue: DeviceQueue,
    private readonly maxRows: number,
    /** Runs one batch and settles each member's call; if it throws, every member is failed with its error (settled ones stay as they are). */
    private readonly run: (members: M[]) => Promise<void>,
  ) {}

  add(key: string, member: M): void {
    const batch = this.open.get(key);
    if (batch && batch.reduce((n, m) => n + m.rows, 0) + member.rows <= this.maxRows) {
      batch.push(member);
      return;
    }
    const fresh = [member];
    this.open.set(key, fresh);
    void this.queue.run(() => this.start(key, fresh));
  }

  private async start(key: string, batch: M[]): Promise<void> {
    if (this.open.get(key) === batch) this.open.delete(key);
    const live: M[] = [];
    for (const m of batch) {
      if (m.signal?.aborted) m.fail(m.signal.reason);
      else live.push(m);
    }
    if (live.length === 0) return;
    try {
      await this.run(live);
    } catch (err) {
      for (const m of live) m.fail(err);
    }
  }
}
