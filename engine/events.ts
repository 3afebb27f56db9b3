// The engine's run events: the contract's vocabulary with outputs as the engine's values, ended by
// the engine's own `run:finished` (hosts turn it into the contract's `RunMessage`).
import type { RunProgress } from './contract';
import type { PortValues } from './node';

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

/** Everything a run reports, in order; every event names its run, node events their node. */
export type RunEvent =
  | RunProgress<PortValues>
  | { type: 'run:finished'; runId: string; status: RunStatus; ms: number; error?: { node: string | null; message: string } };
