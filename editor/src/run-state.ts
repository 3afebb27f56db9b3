// Turns run messages (live from socket.io, or a finished run from history) into what each node shows.

import type { RunDetail } from './api';
import type { FeedMessage } from './socket';
import type { KeyedStore } from './store';
import type { NodePhase, NodeRunState } from './types';

/** Why the planner left a node out of a run. */
export const UNUSED = 'no output depends on it';

/**
 * A node left out of a run's plan: either a result downstream was cached (so its last result still
 * holds, and it keeps showing it) or no output depends on it.
 */
function notPlanned(previous: NodeRunState | undefined): NodeRunState {
  if (previous?.outputs && (previous.phase === 'done' || previous.phase === 'cached')) return { ...previous, phase: 'cached', ms: undefined };
  return { phase: 'skipped', message: UNUSED };
}

/** Applies one live message to the per-node states; returns nothing, the store notifies the nodes. */
export function applyRunMessage(states: KeyedStore<NodeRunState>, message: FeedMessage, nodeIds: () => string[]): void {
  switch (message.type) {
    case 'run:queued':
      // Until the run starts, the nodes keep showing the last results.
      break;
    case 'run:started': {
      const planned = new Set(message.nodes);
      for (const id of nodeIds()) states.set(id, planned.has(id) ? { phase: 'queued' } : notPlanned(states.get(id)));
      break;
    }
    case 'node:started':
      states.set(message.nodeId, { phase: 'running' });
      break;
    case 'node:progress':
      states.set(message.nodeId, { phase: 'running', step: message.step, total: message.total });
      break;
    case 'node:cached':
      states.set(message.nodeId, { phase: 'cached', outputs: message.outputs });
      break;
    case 'node:finished':
      states.set(message.nodeId, { phase: 'done', ms: message.ms, outputs: message.outputs });
      break;
    case 'node:error':
      states.set(message.nodeId, { phase: 'error', message: message.message });
      break;
    case 'run:state':
      applyRunRecord(states, message.run, nodeIds(), true);
      break;
    case 'run:finished': {
      // Nodes still waiting or running were stopped by a cancel, or never ran after a failure upstream.
      const phase = message.status === 'cancelled' ? 'cancelled' : 'skipped';
      for (const [id, state] of states.entries()) {
        if (state.phase === 'queued' || state.phase === 'running') states.set(id, { phase });
      }
      if (message.status === 'failed' && message.error?.node && states.get(message.error.node)?.phase !== 'error') {
        states.set(message.error.node, { phase: 'error', message: message.error.message });
      }
      break;
    }
  }
}

/** A node's recorded status as shown on the canvas; while the run is live, pending means queued. */
const PHASES: Record<string, NodePhase> = {
  pending: 'skipped',
  running: 'skipped',
  succeeded: 'done',
  cached: 'cached',
  failed: 'error',
  cancelled: 'cancelled',
  skipped: 'skipped',
};

/**
 * Shows a run record on the nodes still on the canvas: a finished run from history, or a live run's
 * state when the editor starts watching it (`run:state`).
 */
export function applyRunRecord(states: KeyedStore<NodeRunState>, run: RunDetail, nodeIds: string[], watched = false): void {
  const live = run.status === 'queued' || run.status === 'running';
  const recorded = run.nodes ?? {};
  for (const id of nodeIds) {
    const node = recorded[id];
    if (!node) {
      // Queued runs have no node states yet; once started, a node missing from the plan will not run.
      if (run.status === 'queued') continue;
      // A run being watched is the latest: nodes it did not need keep their last results.
      states.set(id, live || watched ? notPlanned(states.get(id)) : undefined);
      continue;
    }
    if (live && (node.status === 'pending' || node.status === 'running')) {
      const progress = (node as { progress?: { step: number; total: number } }).progress;
      states.set(id, node.status === 'pending' ? { phase: 'queued' } : { phase: 'running', step: progress?.step, total: progress?.total });
      continue;
    }
    const phase = node.cached ? 'cached' : (PHASES[node.status ?? ''] ?? 'skipped');
    states.set(id, {
      phase,
      ms: node.ms ?? undefined,
      message: node.error ?? undefined,
      outputs: node.outputs ?? undefined,
    });
  }
}
