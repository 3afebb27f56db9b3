// The messages between the runtime and a worker lane (engine/runtime/lanes.ts, lane-worker.ts): model calls by
// name and method, their progress and results. Everything in them survives structured clone (images are plain
// objects with a Uint8Array); a signal cannot cross threads, so a cancel is a message of its own.
import type { CallStats } from './model';
import type { ModelRuntimeOptions } from './runtime';

/** The ImageModel methods a lane runs for the main thread. */
export type LaneMethod = 'generate' | 'edit' | 'caption' | 'score' | 'scoreBatch';

/** What a lane thread starts with. */
export interface LaneData {
  options: ModelRuntimeOptions;
}

export type ToLane =
  | { kind: 'call'; id: number; model: string; method: LaneMethod; args: unknown[]; progress: boolean; kvCache?: boolean }
  | { kind: 'cancel'; id: number; reason: string }
  /** Stop: cancel every call, release the sessions, end the thread once no native call runs. */
  | { kind: 'close' };

export type FromLane =
  | { kind: 'ready' }
  | { kind: 'progress'; id: number; step: number; total: number }
  | { kind: 'done'; id: number; value: unknown; stats: CallStats }
  | { kind: 'failed'; id: number; error: { name: string; message: string } };
