// What a node shows, derived from its run state and the server's issues: shared by the node's
// plain-DOM frame (node-shell.ts) and its React widgets (node-body.tsx).

import type { WorkflowIssue } from '../../../engine/contract';
import type { NodeRunState } from '../types';
import type { PicNode } from './node';

export function statusText(state: NodeRunState | undefined): string {
  if (!state) return '';
  switch (state.phase) {
    case 'queued':
      return 'queued';
    case 'running':
      return state.total ? `running ${state.step ?? 0}/${state.total}` : 'running';
    case 'cached':
      return 'cached';
    case 'done':
      return state.ms !== undefined ? `done in ${formatMs(state.ms)}` : 'done';
    case 'error':
      return 'error';
    case 'skipped':
      return state.message ? `not run: ${state.message}` : 'not run';
    case 'cancelled':
      return 'cancelled';
    default:
      return '';
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The run's progress as a share of its steps, or null when the node is not running a counted job. */
export function progressShare(state: NodeRunState | undefined): number | null {
  return state?.phase === 'running' && state.total ? Math.min(1, (state.step ?? 0) / state.total) : null;
}

/** A node's issues by where they are shown: on an input row, on a param widget, or in the node's error box. */
export function splitIssues(issues: WorkflowIssue[] | undefined) {
  const inputs = new Map<string, string>();
  const params = new Map<string, string>();
  const general: WorkflowIssue[] = [];
  for (const issue of issues ?? []) {
    const [head, ...rest] = issue.field.split('.');
    const key = rest.join('.');
    if (head === 'inputs' && key) inputs.set(key, issue.message);
    else if (head === 'params' && key) params.set(key.split('.')[0], issue.message);
    if (!(head === 'params' && key)) general.push(issue);
  }
  return { inputs, params, general };
}

/** Nodes that compute something show their outputs (constants such as a prompt do not). */
export function showsOutputs(node: PicNode): boolean {
  return Boolean(node.spec?.output) || node.ports.inputs.length > 0;
}

/** Whether the node has widgets or results to show below its ports. */
export function hasBody(node: PicNode): boolean {
  return Object.keys(node.spec?.params.properties ?? {}).length > 0 || showsOutputs(node);
}
