import type { PortValues } from './node';

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

/** Everything a run reports, in order; every event names its run, node events their node. */
export type RunEvent =
  | { type: 'run:started'; runId: string; nodes: string[]; at: number }
  | { type: 'node:started'; runId: string; nodeId: string; at: number }
  | { type: 'node:progress'; runId: string; nodeId: string; step: number; total: number }
  | { type: 'node:cached'; runId: string; nodeId: string; outputs: PortValues }
  | { type: 'node:finished'; runId: string; nodeId: string; ms: number; outputs: PortValues }
  | { type: 'node:error'; runId: string; nodeId: string; message: string }
  | { type: 'run:finished'; runId: string; status: RunStatus; ms: number; error?: { node: string | null; message: string } };

export type RunEventListener = (event: RunEvent) => void;

/** One typed signal that listeners plug into (CLI bars, socket.io bridge, run recorder); the engine names none of them. */
export class RunEventBus {
  private readonly listeners = new Set<RunEventListener>();

  on(listener: RunEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: RunEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        // A faulty listener must not break the run it listens to.
        process.emitWarning(`run event listener failed on ${event.type}: ${(err as Error).message}`);
      }
    }
  }
}
