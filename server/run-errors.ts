/**
 * The run service's refusals, as domain errors: the express app maps each to its status code in one
 * place (app.ts); the service itself speaks no HTTP.
 */

/** The queue holds its maximum of waiting runs; retrying after `retryAfterSeconds` should find room. */
export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the run queue is full; try again later');
  }
}

export class QueueClosedError extends Error {
  constructor() {
    super('the server is shutting down and takes no new runs');
  }
}

/** What runs wait in (Redis, in scale-out) cannot be reached; the cause is logged, never shown. */
export class QueueUnavailableError extends Error {
  constructor(readonly retryAfterSeconds = 5) {
    super('the run queue is unavailable (Redis does not answer); try again later');
  }
}

export class UnknownRunError extends Error {
  constructor(readonly runId: string) {
    super(`no run '${runId}'`);
  }
}

/** The run is not in a state that allows what was asked (cancel a finished run, resume one that was not interrupted). */
export class RunStateError extends Error {}

/** The abort reason of runs stopped because the server shuts down (as opposed to a user's cancel). */
export class ShutdownAbort extends Error {
  constructor() {
    super('the server shut down before the run finished');
  }
}
