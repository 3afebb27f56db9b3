/**
 * One ordered sequence of asynchronous steps (one run's events, one job's reports): each step starts
 * when the one before it has settled. A failing step is handed to `onError` and the sequence goes on;
 * its caller still sees the failure in the promise `add` returns.
 */
export class OrderedSteps {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (err: unknown) => void) {}

  add<T>(step: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    this.tail = result.then(() => undefined, this.onError);
    return result;
  }

  /** Settles once every step added so far has. */
  settled(): Promise<void> {
    return this.tail;
  }
}
