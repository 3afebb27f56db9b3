import { z } from 'zod';
import type { NodeDefinition } from '../engine/node';
import { cannot, type FoundModel, type TaskName } from '../engine/runtime';
import type { WorkflowIssue } from '../engine/contract';

/** The model a model node uses unless its `model` param names another: the shipped, offline one. */
export const DEFAULT_MODEL = 'tiny-shapes';

/**
 * A model node's `model` param. Its JSON schema carries the node's task (`x-picflow-task`), so an
 * editor can offer only the models whose `tasks` in GET /api/models include it.
 */
export function modelParam(task: TaskName) {
  return z.string().min(1).max(128).default(DEFAULT_MODEL).describe('model name (see GET /api/models)').meta({ 'x-picflow-task': task });
}

/** Sampling params shared by generate and edit; unset ones take the model's own defaults. */
export const samplingParams = (task: 'generate' | 'edit') =>
  z.object({
    model: modelParam(task),
    seed: z.int().min(0).max(2 ** 32 - 1).default(0),
    count: z.int().min(1).max(16).default(1),
    cfg: z.number().min(1).max(20).optional().describe('guidance scale (1 = none); default: the model\'s'),
    temperature: z.number().min(0).max(5).optional().describe('0 = greedy; default: the model\'s'),
    topK: z.int().min(0).max(100_000).optional().describe('0 = off; default: the model\'s'),
    topP: z.number().gt(0).max(1).optional().describe('1 = off; default: the model\'s'),
  });

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
