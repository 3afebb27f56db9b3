import type { RunEvent } from './events';

/** A run past its time budget, as the watchdog reports it. */
export interface OverdueRun {
  runId: string;
  /** How long the run has been going. */
  ms: number;
  budgetMs: number;
  /** The nodes running at the time of the report: the likely culprits. */
  running: string[];
}

export interface WatchdogOptions {
  /** A run going longer than this is reported, and again each time the same span passes. */
  runBudgetMs: number;
  /** Where reports go; the server logs them as warnings, the default is a process warning. */
  onOverdue: (run: OverdueRun) => void;
}

export const DEFAULT_WATCHDOG: WatchdogOptions = {
  runBudgetMs: 15 * 60_000,
  onOverdue: (run) =>
    process.emitWarning(
      `run ${run.runId} has gone ${Math.round(run.ms / 1000)} s, over its budget of ${Math.round(run.budgetMs / 1000)} s (running: ${run.running.join(', ') || 'none'})`,
    ),
};

/**
 * Watches one run: follows its events to know which nodes are running and reports it each time it
 * passes another budget span. Call `observe` with every event; the watch ends with `run:finished`.
 */
export function watchRun(runId: string, options: WatchdogOptions): { observe(event: RunEvent): void } {
  const started = performance.now();
  // Node id → running now. Entries are flipped, never deleted: a Set's delete per node reallocated its table,
  // a share of a large run's garbage, and the list is only read when a report is due.
  const running = new Map<string, boolean>();
  const timer = setInterval(() => {
    try {
      options.onOverdue({ runId, ms: performance.now() - started, budgetMs: options.runBudgetMs, running: runningNow(running) });
    } catch {
      // A failing reporter must not take the process down; the next span reports again.
    }
  }, options.runBudgetMs);
  // The watchdog alone never keeps a process alive.
  timer.unref();
  return {
    observe(event) {
      if (event.type === 'node:started') running.set(event.nodeId, true);
      else if (event.type === 'node:finished' || event.type === 'node:error') running.set(event.nodeId, false);
      else if (event.type === 'run:finished') clearInterval(timer);
    },
  };
}

function runningNow(running: ReadonlyMap<string, boolean>): string[] {
  const ids: string[] = [];
  for (const [id, now] of running) if (now) ids.push(id);
  return ids;
}
