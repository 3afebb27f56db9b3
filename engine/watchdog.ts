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
 * Watches one run: reports it each time it passes another budget span, naming the nodes `runningNow`
 * gives, until `stop`. The running nodes are asked for only when a report is due: following every node's
 * events to keep a list of them cost a Map entry per node of every run.
 */
export function watchRun(runId: string, options: WatchdogOptions, runningNow: () => string[]): { stop(): void } {
  const started = performance.now();
  const timer = setInterval(() => {
    try {
      options.onOverdue({ runId, ms: performance.now() - started, budgetMs: options.runBudgetMs, running: runningNow() });
    } catch {
      // A failing reporter must not take the process down; the next span reports again.
    }
  }, options.runBudgetMs);
  // The watchdog alone never keeps a process alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
