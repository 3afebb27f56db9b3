/**
 * The device's lanes: at most `lanes` model calls from any run execute at once, the others wait here in
 * arrival order instead of competing for the same cores (or loading copies). On CPU a lane is a core's
 * worth of threads, so a second generation uses the core the first leaves idle; a GPU has one lane. Each
 * call keeps its own inputs, RNG and outputs, so what it returns does not depend on what runs beside it.
 * A job whose signal aborts while waiting never starts.
 */
export class DeviceQueue {
  private readonly waiters: (() => void)[] = [];
  private active = 0;
  private waiting = 0;

  constructor(
    readonly device: string,
    readonly lanes = 1,
  ) {
    if (!(Number.isInteger(lanes) && lanes >= 1)) throw new Error(`a device queue needs at least one lane, not ${lanes}`);
  }

  /** Jobs waiting or running. */
  get length(): number {
    return this.waiting;
  }

  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.waiting++;
    try {
      if (this.active < this.lanes) this.active++;
      else await new Promise<void>((resolve) => this.waiters.push(resolve));
      try {
        signal?.throwIfAborted();
        return await job();
      } finally {
        // The lane passes straight to the next waiter, so arrival order holds.
        const next = this.waiters.shift();
        if (next) next();
        else this.active--;
      }
    } finally {
      this.waiting--;
    }
  }
}
