// Editor-only shapes: how a node looks while a run is watched, and the model dropdown's choices.
// Everything the editor exchanges with the server (workflow JSON, catalog, issues, run messages)
// is the contract's (engine/contract.ts), imported as is.
import type { ImageRef } from '../../engine/contract';

/** A model as `GET /api/models` lists it: what the model dropdown needs. */
export interface ModelChoice {
  name: string;
  tasks: string[];
}

/** What a node shows while a run is watched. */
export type NodePhase = 'idle' | 'queued' | 'running' | 'cached' | 'done' | 'error' | 'skipped' | 'cancelled';

export interface NodeRunState {
  phase: NodePhase;
  step?: number;
  total?: number;
  ms?: number;
  message?: string;
  outputs?: Record<string, unknown>;
}

/** Whether an output value is an image reference the editor can show (it has a URL). */
export function isImageRef(value: unknown): value is ImageRef {
  return typeof value === 'object' && value !== null && typeof (value as ImageRef).url === 'string';
}
