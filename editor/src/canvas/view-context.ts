// What every node on the canvas reads and calls (run states, issues, models, edits), given to their
// separate React roots by closure.

import { KeyedStore, Observable } from '../store';
import type { WorkflowIssue } from '../../../engine/contract';
import type { ModelChoice, NodeRunState } from '../types';
import type { Vocabulary } from '../vocabulary';

/**
 * What nodes read and call: their plain-DOM frames (node-shell.ts) and their widgets, each in a React
 * root of its own outside the app's tree, get this object by closure instead of through React context.
 */
export interface ViewContext {
  runStates: KeyedStore<NodeRunState>;
  issues: KeyedStore<WorkflowIssue[]>;
  /** Bumped when a node's params or title change, so only that node re-renders. */
  versions: KeyedStore<number>;
  models: Observable<ModelChoice[]>;
  /** The words each model's prompts may use (null: any text), from `GET /api/models`. */
  vocabularies: Observable<Map<string, Vocabulary>>;
  /** Zoomed out: nodes show no widgets, and their widgets' React roots are not mounted yet. */
  lite: Observable<boolean>;
  setParam(nodeId: string, name: string, value: unknown): void;
  rename(nodeId: string, title: string): void;
  upload?(file: File): Promise<{ artifact: string; url: string }>;
  /** Which sockets are connected, by `${nodeId}:${side}:${key}`; bumped per node on change. */
  connected(nodeId: string, side: 'input' | 'output', key: string): boolean;
  /** A node's rendered height changed. */
  resized(nodeId: string): void;
}

export function createViewContext(partial: Pick<ViewContext, 'setParam' | 'rename' | 'upload' | 'connected' | 'resized'>): ViewContext {
  return {
    runStates: new KeyedStore<NodeRunState>(),
    issues: new KeyedStore<WorkflowIssue[]>(),
    versions: new KeyedStore<number>(),
    models: new Observable<ModelChoice[]>([]),
    vocabularies: new Observable(new Map<string, Vocabulary>()),
    lite: new Observable(false),
    ...partial,
  };
}

export function bump(versions: KeyedStore<number>, nodeId: string): void {
  versions.set(nodeId, (versions.get(nodeId) ?? 0) + 1);
}
