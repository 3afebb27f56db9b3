/**
 * One ordered sequence of asynchronous steps (one run's events, one job's reports): each step starts
 * when the one before it has settled. A failing step is handed to `onError` and the sequence goes on;
 * its caller still sees the failure in the promise `add` returns.
 */
export class OrderedSteps {
  /** Settles once every step under way has; undefined when none is (a new step may run at once). */
  private tail: Promise<void> | undefined;

  constructor(private readonly onError: (err: unknown) => void) {}

  /**
   * Adds a step. With none under way it runs now, in the caller's turn: a step that finishes at once (most
   * of a run's events, on a busy trigger server) then costs no trip through the microtask queue.
   */
  add<T>(step: () => T | Promise<T>): Promise<T> {
    if (this.tail !== undefined) return this.follow(this.tail.then(step));
    let value: T | Promise<T>;
    try {
      value = step();
    } catch (err) {
      this.onError(err);
      const failed = Promise.reject(err);
      failed.catch(() => undefined); // reported above; a caller that drops the promise must not crash the process
      return failed;
    }
    return isThenable(value) ? this.follow(Promise.resolve(value)) : Promise.resolve(value);
  }

  /** Settles once every step added so far has. */
  settled(): Promise<void> {
    return this.tail ?? Promise.resolve();
  }

  private follow<T>(result: Promise<T>): Promise<T> {
    const tail: Promise<void> = result.then(
      () => undefined,
      (err) => this.onError(err),
    ).then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
    return result;
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
