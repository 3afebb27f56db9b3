import type { Graph } from './graph';
import type { Services } from './services';
import type { WorkflowIssue } from './contract';

/** The issues of each node's `check` against the host's services (once each: two nodes may blame one prompt). */
export function serviceIssues(graph: Graph, services: Services): WorkflowIssue[] {
  const seen = new Map<string, WorkflowIssue>();
  // By index: for-of made an iterator result per node here in allocation profiles.
  for (let i = 0; i < graph.order.length; i++) {
    const node = graph.order[i];
    const check = node.definition.check;
    if (!check) continue; // most nodes have none: no empty list to walk for each
    for (const issue of check(node, graph, services)) seen.set(`${issue.node}\u0000${issue.field}\u0000${issue.message}`, issue);
  }
  return [...seen.values()];
}
