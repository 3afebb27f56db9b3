/**
 * One job at a time per device: concurrent model calls from any run wait here instead of competing
 * for the same cores (or loading copies). A job whose signal aborts while waiting never starts.
 */
export class DeviceQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(readonly device: string) {}

  /** Jobs waiting or running. */
  get length(): number {
    return this.waiting;
  }

  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.waiting++;
    const result = this.tail.then(() => {
      signal?.throwIfAborted();
      return job();
    });
    const settled = result.finally(() => this.waiting--);
    this.tail = settled.catch(() => undefined);
    return result;
  }
}
