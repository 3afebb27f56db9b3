import type { Catalog } from './node';
import type { RunInputs, Workflow, WorkflowIssue } from './contract';

const TEMPLATE_VARIABLE = /\{([A-Za-z_][\w-]*)\}/g;

/** Template variables (`{subject}`) in a text. */
export function templateVariables(text: string): string[] {
  return [...text.matchAll(TEMPLATE_VARIABLE)].map((m) => m[1]);
}

/**
 * Applies run inputs to a workflow's params, returning a new workflow when any param changes (the given one
 * is never written to) and the given one when none does, with the ids of the nodes it changed.
 * `{"subject": …}` sets the value of every node exposed under that name (a named prompt) and fills
 * `{subject}` in template params; `{"g.seed": 3}` sets one param of node `g`. A key that matches
 * nothing is an issue, never silence; so is a template variable left without a value. `ids`: the workflow's
 * node ids, when already listed.
 */
export function applyRunInputs(
  workflow: Workflow,
  inputs: RunInputs,
  catalog: Catalog,
  ids: readonly string[] = Object.keys(workflow.nodes),
): { workflow: Workflow; issues: WorkflowIssue[]; changed: string[] } {
  const issues: WorkflowIssue[] = [];
  // Node ids, param names and run-input keys all come from outside: own-property checks and Maps only.
  const declared = workflow.nodes;
  const given = (key: string) => Object.hasOwn(inputs, key);
  // Copy on write: only the nodes whose params change are copied (a 10,000-node workflow has a handful);
  // copying every node and its params, then the whole node table, was the hottest part of validating a large workflow.
  const copies = new Map<string, Workflow['nodes'][string]>();
  const current = (id: string) => copies.get(id) ?? declared[id];
  const writable = (id: string): Record<string, unknown> => {
    let copy = copies.get(id);
    if (!copy) {
      const node = declared[id];
      copy = { ...node, params: { ...node.params } };
      copies.set(id, copy);
    }
    return copy.params!;
  };

  const used = new Set<string>();
  // By index: for-of here made an iterator result per node in allocation profiles.
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const node = declared[id];
    const named = catalog.get(node.type)?.namedInput;
    if (!named) continue;
    const name = node.params?.[named.nameParam];
    if (typeof name === 'string' && name !== '' && given(name)) {
      writable(id)[named.valueParam] = inputs[name];
      used.add(name);
    }
    const text = current(id).params?.[named.valueParam];
    if (named.template && typeof text === 'string' && text.includes('{')) {
      writable(id)[named.valueParam] = fillTemplate(text, inputs, used, issues, id, `params.${named.valueParam}`);
    }
  }

  for (const [key, value] of Object.entries(inputs)) {
    if (used.has(key)) continue;
    const dot = key.lastIndexOf('.');
    const nodeId = dot > 0 ? key.slice(0, dot) : '';
    const param = key.slice(dot + 1);
    const node = Object.hasOwn(declared, nodeId) ? current(nodeId) : undefined;
    if (!node) {
      issues.push({
        node: null,
        field: `inputs.${key}`,
        message:
          dot > 0
            ? `run input '${key}' names no node '${nodeId}'`
            : `run input '${key}' names no prompt, template variable or node param`,
      });
      continue;
    }
    const definition = catalog.get(node.type);
    if (!definition) continue; // the node's unknown type is reported by validation
    if (!Object.hasOwn(definition.params.shape, param)) {
      const known = Object.keys(definition.params.shape).join(', ') || 'none';
      issues.push({ node: nodeId, field: `params.${param}`, message: `run input '${key}' names no param of ${node.type} (params: ${known})` });
      continue;
    }
    writable(nodeId)[param] = value;
  }
  // Nothing set: the workflow as it is (copying a 10,000-node table showed in profiles of validation).
  if (copies.size === 0) return { workflow, issues, changed: [] };
  // Spreading defines own properties, so no id reaches a prototype.
  const nodes = { ...declared };
  for (const [id, copy] of copies) nodes[id] = copy;
  return { workflow: { ...workflow, nodes }, issues, changed: [...copies.keys()] };
}

/**
 * `text` with each `{variable}` that has a run input filled in (and marked used); one without is an issue at
 * node `id`'s `field`. Its own function: a callback inside the loop over nodes made each pass allocate the
 * variables it captured (a context per node in allocation profiles).
 */
function fillTemplate(text: string, inputs: RunInputs, used: Set<string>, issues: WorkflowIssue[], id: string, field: string): string {
  return text.replace(TEMPLATE_VARIABLE, (whole, variable: string) => {
    if (Object.hasOwn(inputs, variable)) {
      used.add(variable);
      return String(inputs[variable]);
    }
    issues.push({ node: id, field, message: `template variable {${variable}} has no value; pass it as a run input` });
    return whole;
  });
}
