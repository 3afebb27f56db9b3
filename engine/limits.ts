import type { WorkflowIssue } from './workflow';

/** Sizes a workflow may have; each one exceeded is an issue that names the limit and the place. */
export interface WorkflowLimits {
  /** Nodes in one workflow. */
  maxNodes: number;
  /** Params set on one node (and links into one node). */
  maxParamsPerNode: number;
  /** Characters in a name: node id, input, output, param or run-input key. */
  maxNameLength: number;
  /** Characters in one string value anywhere in the workflow or the run inputs. */
  maxStringLength: number;
  /** Nesting of objects and arrays, the workflow's top level being 1. */
  maxDepth: number;
  /** Keys in the run inputs. */
  maxRunInputs: number;
}

export const DEFAULT_WORKFLOW_LIMITS: WorkflowLimits = {
  maxNodes: 20_000,
  maxParamsPerNode: 256,
  maxNameLength: 256,
  maxStringLength: 1_000_000,
  maxDepth: 32,
  maxRunInputs: 256,
};

/**
 * A name that plain objects cannot hold as their own key: assigning it changes the prototype, and
 * schema parsers drop it silently. Refused up front so it never reaches a lookup.
 */
const UNUSABLE_NAME = '__proto__';

/** How deep `value` nests (a scalar is 0); iterative, so any depth costs no call stack. Stops past `limit`. */
export function jsonDepthPast(value: unknown, limit: number): { depth: number; path: string[] } | null {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (path.length + 1 > limit) return { depth: path.length + 1, path };
    for (const [key, child] of Object.entries(current)) stack.push({ value: child, path: [...path, key] });
  }
  return null;
}

/**
 * Checks the raw workflow and run inputs against the limits before any parser walks them, so a huge
 * or deeply nested document is refused cheaply and never overflows a recursive parser.
 */
export function limitIssues(raw: unknown, runInputs: unknown, limits: WorkflowLimits): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const deep = jsonDepthPast(raw, limits.maxDepth);
  if (deep) {
    issues.push(workflowIssue(deep.path, `nested deeper than the limit of ${limits.maxDepth} levels`));
    return issues;
  }
  const inputsDeep = jsonDepthPast(runInputs, limits.maxDepth);
  if (inputsDeep) issues.push({ node: null, field: ['inputs', ...inputsDeep.path].join('.'), message: `nested deeper than the limit of ${limits.maxDepth} levels` });

  issues.push(...longStrings(raw, [], limits), ...longStrings(runInputs, ['inputs'], limits));
  if (isObject(runInputs)) {
    const keys = Object.keys(runInputs);
    if (keys.length > limits.maxRunInputs) issues.push({ node: null, field: 'inputs', message: `${keys.length} run inputs; the limit is ${limits.maxRunInputs}` });
    for (const key of keys) checkName(issues, key, { node: null, field: `inputs.${clip(key)}` }, limits, 'run input');
  }

  const nodes = isObject(raw) ? raw.nodes : undefined;
  if (!isObject(nodes)) return issues; // the schema says what is wrong
  const ids = Object.keys(nodes);
  if (ids.length > limits.maxNodes) {
    issues.push({ node: null, field: 'nodes', message: `${ids.length} nodes; the limit is ${limits.maxNodes} nodes per workflow` });
    return issues;
  }
  for (const id of ids) {
    checkName(issues, id, { node: null, field: `nodes.${clip(id)}` }, limits, 'node id');
    const node = nodes[id];
    if (!isObject(node)) continue;
    const at = clip(id);
    for (const part of ['params', 'inputs'] as const) {
      const entries = node[part];
      if (!isObject(entries)) continue;
      const names = Object.keys(entries);
      if (names.length > limits.maxParamsPerNode) {
        issues.push({ node: at, field: part, message: `${names.length} ${part}; the limit is ${limits.maxParamsPerNode} per node` });
        continue;
      }
      for (const name of names) {
        checkName(issues, name, { node: at, field: `${part}.${clip(name)}` }, limits, part === 'params' ? 'param name' : 'input name');
        const link = entries[name];
        if (part === 'inputs' && Array.isArray(link)) {
          for (const end of link) {
            if (typeof end === 'string') checkName(issues, end, { node: at, field: `inputs.${clip(name)}` }, limits, 'linked name');
          }
        }
      }
    }
  }
  return issues;
}

function checkName(issues: WorkflowIssue[], name: string, where: Omit<WorkflowIssue, 'message'>, limits: WorkflowLimits, what: string): void {
  if (name.length > limits.maxNameLength) {
    issues.push({ ...where, message: `${what} of ${name.length} characters; the limit is ${limits.maxNameLength}` });
  } else if (name === UNUSABLE_NAME) {
    issues.push({ ...where, message: `'${UNUSABLE_NAME}' cannot be used as a ${what}` });
  }
}

/** Every string longer than the limit, named by its path; iterative like jsonDepthPast (depth is checked first). */
function longStrings(value: unknown, base: string[], limits: WorkflowLimits): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const stack: { value: unknown; path: string[] }[] = [{ value, path: base }];
  while (stack.length > 0 && issues.length < 20) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string' && current.length > limits.maxStringLength) {
      issues.push(workflowIssue(path, `a string of ${current.length} characters; the limit is ${limits.maxStringLength}`));
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) stack.push({ value: child, path: [...path, key] });
    }
  }
  return issues;
}

/** An issue at a path of the raw workflow: `nodes.<id>.…` names the node. */
function workflowIssue(path: string[], message: string): WorkflowIssue {
  const clipped = path.map(clip);
  if (clipped[0] === 'nodes' && clipped.length >= 2) return { node: clipped[1], field: clipped.slice(2).join('.') || '(node)', message };
  return { node: null, field: clipped.join('.') || '(workflow)', message };
}

/** Names in messages are cut short: an over-long name must not make an over-long error. */
function clip(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
