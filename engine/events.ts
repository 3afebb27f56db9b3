// The engine's run events: the contract's vocabulary with outputs as the engine's values, ended by
// the engine's own `run:finished` (hosts turn it into the contract's `RunMessage`).
import type { RunProgress } from './contract';
import type { PortValues } from './node';

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

/** Everything a run reports, in order; every event names its run, node events their node. */
export type RunEvent =
  | RunProgress<PortValues>
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
