/**
 * Keeps the run history in sqlite in step with live runs, hearing their messages first, in order: a run is
 * recorded when queued, marked when it starts (not waited for), has its node states saved while it runs (so
 * that a crash keeps what finished nodes made), and is written whole when it ends. The queued record and the
 * end are committed before anyone else hears of them; a run that ends before its queued record is committed
 * has both in one commit.
 */
import type { Logger } from 'pino';
import type { RunMessage } from '../engine/contract';
import type { RunRecord, RunStore } from './store/runs';

export class RunRecorder {
  /** Runs whose node states changed since they were last saved, with the timer that will save them. */
  private readonly unsaved = new Map<string, NodeJS.Timeout>();

  /** Node states are saved at most once per `saveEveryMs` a run: short runs only write when queued, started and finished. */
  constructor(
    private readonly runs: RunStore,
    private readonly logger: Logger,
    private readonly saveEveryMs = 250,
  ) {}

  /**
   * Called with each message in its run's order, as it is built; a promise (queued, finished) is the write
   * that others wait for before they hear the message. Only the first write (queued) fails: that run is refused.
   */
  readonly record = (message: RunMessage, run: RunRecord): void | Promise<void> => {
    switch (message.type) {
      case 'run:queued':
        return this.runs.save(run);
      case 'run:started':
        // Not waited for: the run's next messages (its end above all) need not wait for this commit, and
        // when the end comes before it is committed, the end record replaces it (RunStore.save).
        this.runs.save(run).catch((err) => this.logger.warn({ runId: run.id, err }, 'could not record the start of a run'));
        return;
      case 'node:finished':
      case 'node:cached':
      case 'node:error':
        this.saveNodesSoon(run);
        return;
      case 'run:finished':
        clearTimeout(this.unsaved.get(run.id));
        this.unsaved.delete(run.id);
        return this.runs.save(run).catch((err) => this.logger.error({ runId: run.id, err, message: message.type }, 'could not record a run'));
      default:
        return;
    }
  };

  private saveNodesSoon(run: RunRecord): void {
    if (this.unsaved.has(run.id)) return;
    const timer = setTimeout(() => {
      this.unsaved.delete(run.id);
      this.runs.saveNodes(run.id, run.nodes).catch((err) => this.logger.warn({ runId: run.id, err }, 'could not save the node states of a run'));
    }, this.saveEveryMs);
    timer.unref();
    this.unsaved.set(run.id, timer);
  }
}
