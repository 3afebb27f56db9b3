/**
 * One ordered sequence of asynchronous steps (one run's events, one job's reports): each step starts
 * when the one before it has settled. A failing step is handed to `onError` and the sequence goes on;
 * its caller still sees the failure in the promise `add` returns.
 *
 * Steps behind one under way wait in a list and then run in a loop, one after another in the same turn
 * while they finish at once: only a step that returns a promise is waited for. A chain of promises (a
 * `then` per step) cost a busy trigger server a tenth of its run bookkeeping while each run's events
 * waited for its queued record's commit.
 */
export class OrderedSteps {
  private readonly waiting: (() => unknown)[] = [];
  /** A step's promise is being waited for. */
  private busy = false;
  /** Steps added, and steps settled (in order): `settled` waits for the count added when it was called. */
  private added = 0;
  private done = 0;
  private watchers: { upTo: number; resolve: () => void }[] = [];

  constructor(private readonly onError: (err: unknown) => void) {}

  /**
   * Adds a step, whose outcome the promise gives. With none under way it runs now, in the caller's turn: a step
   * that finishes at once (most of a run's events, on a busy trigger server) then costs no trip through the
   * microtask queue.
   */
  add<T>(step: () => T | Promise<T>): Promise<T> {
    const outcome = new Promise<T>((resolve, reject) => this.push(() => reportTo(step, resolve, reject)));
    outcome.catch(() => undefined); // handed to onError too; a caller that drops the promise must not crash the process
    return outcome;
  }

  /** Adds a step nobody waits for (see `add`): no promise is made for it (unless it makes one). */
  push(step: () => unknown): void {
    this.added++;
    if (this.busy) this.waiting.push(step);
    else void this.run(step);
  }

  /** Settles once every step added so far has. */
  settled(): Promise<void> {
    if (this.done === this.added) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ upTo: this.added, resolve }));
  }

  /** Waits for a step's promise, then runs the steps behind it. */
  private await(pending: PromiseLike<unknown>): void {
    this.busy = true;
    pending.then(
      () => this.resume(),
      (err: unknown) => this.resume(err, true),
    );
  }

  /** Runs the steps that waited, in this turn, until one returns a promise; `busy` stays set meanwhile, so a step added by one of them queues behind the rest. */
  private resume(err?: unknown, failed = false): void {
    this.stepDone(err, failed);
    while (this.waiting.length > 0) if (this.run(this.waiting.shift()!)) return;
    this.busy = false;
  }

  /** Runs a step now; true when it returned a promise, which the steps behind it now wait for. */
  private run(step: () => unknown): boolean {
    let value: unknown;
    try {
      value = step();
    } catch (err) {
      this.stepDone(err, true);
      return false;
    }
    if (!isThenable(value)) {
      this.stepDone();
      return false;
    }
    this.await(value);
    return true;
  }

  private stepDone(err?: unknown, failed = false): void {
    if (failed) this.onError(err);
    this.done++;
    if (this.watchers.length === 0) return;
    const ready = this.watchers.filter((watcher) => watcher.upTo <= this.done);
    if (ready.length === 0) return;
    this.watchers = this.watchers.filter((watcher) => watcher.upTo > this.done);
    for (const watcher of ready) watcher.resolve();
  }
}

/** Runs a waiting step, settling its caller's promise with the outcome; a failure also goes on to `onError`. */
function reportTo<T>(step: () => T | Promise<T>, resolve: (value: T) => void, reject: (err: unknown) => void): unknown {
  let value: T | Promise<T>;
  try {
    value = step();
  } catch (err) {
    reject(err);
    throw err;
  }
  if (!isThenable(value)) return resolve(value);
  return Promise.resolve(value).then(resolve, (err: unknown) => {
    reject(err);
    throw err;
  });
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
