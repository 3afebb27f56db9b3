// A model node's check before anything runs: its model exists and can do the node's task, and the
// constant prompt words fit the model's vocabulary where it publishes one.
import type { NodeDefinition } from '../engine/node';
import { cannot, type FoundModel, type TaskName } from '../engine/runtime';
import type { WorkflowIssue } from '../engine/contract';

/**
 * A model node's validation: its model exists and can do `task`; and where the model publishes a
 * vocabulary, the constant text of each prompt feeding `textInputs` uses only its words (the issue
 * names the prompt node and its field, where the word was typed).
 */
export function modelCheck(task: TaskName, textInputs: readonly string[] = []): NonNullable<NodeDefinition['check']> {
  return (node, graph, services) => {
    if (!services.models) return []; // a host without models: the run says so
    const name = node.params.model as string;
    let found: FoundModel;
    try {
      found = services.models.find(name);
    } catch (err) {
      return [{ node: node.id, field: 'params.model', message: (err as Error).message }];
    }
    if (!found.tasks.includes(task)) return [{ node: node.id, field: 'params.model', message: cannot(found, task).message }];
    const issues: WorkflowIssue[] = [];
    for (const input of textInputs) {
      const link = node.links[input];
      const source = link && graph.nodes.get(link.from);
      const named = source?.definition.namedInput;
      if (!source || !named || !found.vocabulary) continue;
      const text = source.params[named.valueParam];
      const problem = typeof text === 'string' ? found.vocabulary.problem(text) : null;
      if (problem) issues.push({ node: source.id, field: `params.${named.valueParam}`, message: problem });
    }
    return issues;
  };
}
