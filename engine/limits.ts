import type { WorkflowIssue } from './contract';

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

/** A place in a JSON value; paths are rebuilt from parents only when reported, so a walk allocates none. */
interface Place {
  value: unknown;
  key: string;
  parent: Place | null;
  depth: number;
}

function pathOf(place: Place): string[] {
  const path: string[] = [];
  for (let at: Place | null = place; at?.parent; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * Visits every place in `value`, parents before children, until `visit` returns true; iterative, so
 * any depth costs no call stack.
 */
function walk(value: unknown, visit: (place: Place) => boolean): void {
  const stack: Place[] = [{ value, key: '', parent: null, depth: 0 }];
  while (stack.length > 0) {
    const place = stack.pop()!;
    if (visit(place)) return;
    const current = place.value;
    if (typeof current !== 'object' || current === null) continue;
    for (const key of Object.keys(current)) {
      stack.push({ value: (current as Record<string, unknown>)[key], key, parent: place, depth: place.depth + 1 });
    }
  }
}

/** The first object or array found nested deeper than `limit` (the top level being 1), or null. */
export function jsonDepthPast(value: unknown, limit: number): { depth: number; path: string[] } | null {
  let found: { depth: number; path: string[] } | null = null;
  walk(value, (place) => {
    if (typeof place.value !== 'object' || place.value === null || place.depth < limit) return false;
    found = { depth: place.depth + 1, path: pathOf(place) };
    return true;
  });
  return found;
}

/**
 * Checks the raw workflow and run inputs against the limits before any parser walks them, so a huge
 * or deeply nested document is refused cheaply and never overflows a recursive parser. `ids`: the keys of
 * `raw.nodes`, when the caller has listed them (listing a large table's keys again showed in profiles).
 * `visit` sees each node of a table within the node limit as the walk reads it, so a caller's own check of
 * the nodes reads them while they are in the cache (walking a large table again cost as much as this walk).
 */
export function limitIssues(
  raw: unknown,
  runInputs: unknown,
  limits: WorkflowLimits,
  ids?: readonly string[],
  visit?: (id: string, node: unknown) => void,
): WorkflowIssue[] {
  const { issues, fitting } = countIssues(raw, runInputs, limits, ids, visit);
  if (issues.length > 0) return issues; // counted before anything is walked: a huge document is refused cheaply
  // Nearly every document fits: the count's walk, which builds no paths, says so, and only one that does not
  // fit is walked again to name the places (walking with paths twice was most of validating a large workflow).
  if (fitting && fits(runInputs, limits)) return [];

  const deep = jsonDepthPast(raw, limits.maxDepth);
  if (deep) return [workflowIssue(deep.path, `nested deeper than the limit of ${limits.maxDepth} levels`)];
  const inputsDeep = jsonDepthPast(runInputs, limits.maxDepth);
  if (inputsDeep) {
    return [{ node: null, field: ['inputs', ...inputsDeep.path].map(clip).join('.'), message: `nested deeper than the limit of ${limits.maxDepth} levels` }];
  }
  return [...longStrings(raw, [], limits), ...longStrings(runInputs, ['inputs'], limits)];
}

/** The stacks `fits` walks with: one pair per check of a workflow, not per node (a pair per node showed in allocation profiles). */
interface FitStacks {
  objects: unknown[];
  depths: number[];
}

const newFitStacks = (): FitStacks => ({ objects: [], depths: [] });

/**
 * Whether `value`, found at `depth` (the top level being 0), has no object or array nested past `maxDepth`
 * and no string past `maxStringLength`. Only objects go on the stack; strings are checked where they are met
 * and other values skipped, so the walk pushes a fraction of the values it meets (it was the dearest of
 * validation's walks in profiles). `stacks` are left empty.
 */
function fits(value: unknown, limits: WorkflowLimits, depth = 0, stacks = newFitStacks()): boolean {
  if (typeof value === 'string') return value.length <= limits.maxStringLength;
  if (typeof value !== 'object' || value === null) return true;
  const { objects, depths } = stacks;
  objects.push(value);
  depths.push(depth);
  if (walkFits(limits, objects, depths)) return true;
  objects.length = depths.length = 0;
  return false;
}

function walkFits(limits: WorkflowLimits, objects: unknown[], depths: number[]): boolean {
  while (objects.length > 0) {
    const record = objects.pop() as Record<string, unknown>;
    const depth = depths.pop()!;
    if (depth >= limits.maxDepth) return false;
    // Arrays by index: listing an array's keys makes a string per element (links are arrays, one per input).
    // Objects by for-in over own keys (Object.keys' set and order): no key array for each small object.
    if (Array.isArray(record)) {
      for (let i = 0; i < record.length; i++) if (!childFits(record[i], depth, limits, objects, depths)) return false;
    } else {
      for (const key in record) if (Object.hasOwn(record, key) && !childFits(record[key], depth, limits, objects, depths)) return false;
    }
  }
  return true;
}

/** False for a string past the limit; an object or array is queued to be walked one level deeper. */
function childFits(child: unknown, depth: number, limits: WorkflowLimits, objects: unknown[], depths: number[]): boolean {
  if (typeof child === 'string') return child.length <= limits.maxStringLength;
  if (typeof child === 'object' && child !== null) {
    objects.push(child);
    depths.push(depth + 1);
  }
  return true;
}

const PARTS = ['params', 'inputs'] as const;

/**
 * Counts and names: nodes, params and links per node, run inputs, and every name's length; and whether the
 * workflow `fits` (depth, strings), found on the same walk: each node is visited once, while it is in the cache.
 */
function countIssues(
  raw: unknown,
  runInputs: unknown,
  limits: WorkflowLimits,
  given: readonly string[] | undefined,
  visit: ((id: string, node: unknown) => void) | undefined,
): { issues: WorkflowIssue[]; fitting: boolean } {
  const issues: WorkflowIssue[] = [];
  if (isObject(runInputs)) {
    const keys = Object.keys(runInputs);
    if (keys.length > limits.maxRunInputs) return refused({ node: null, field: 'inputs', message: `${keys.length} run inputs; the limit is ${limits.maxRunInputs}` });
    for (const key of keys) {
      const problem = nameProblem(key, limits, 'run input');
      if (problem) issues.push({ node: null, field: `inputs.${clip(key)}`, message: problem });
    }
  }

  const nodes = isObject(raw) ? raw.nodes : undefined;
  // Without a node table the schema says what is wrong; the rest is walked as it is.
  if (!isObject(nodes)) return { issues, fitting: fits(raw, limits) };
  const ids = given ?? Object.keys(nodes);
  if (ids.length > limits.maxNodes) return refused({ node: null, field: 'nodes', message: `${ids.length} nodes; the limit is ${limits.maxNodes} nodes per workflow` });
  // The table's neighbours (version, name, ...) one level down, its nodes two (the workflow being level 0).
  let fitting = limits.maxDepth > 1;
  const stacks = newFitStacks();
  for (const key in raw as Record<string, unknown>) if (fitting && key !== 'nodes' && Object.hasOwn(raw as object, key)) fitting = fits((raw as Record<string, unknown>)[key], limits, 1, stacks);
  // Places are named only for a name with a problem: building them for every name cost more than the checks.
  for (const id of ids) {
    const idProblem = nameProblem(id, limits, 'node id');
    if (idProblem) issues.push({ node: null, field: `nodes.${clip(id)}`, message: idProblem });
    const node = nodes[id];
    visit?.(id, node);
    if (fitting) fitting = fits(node, limits, 2, stacks);
    if (!isObject(node)) continue;
    for (const part of PARTS) {
      const entries = node[part];
      if (!isObject(entries)) continue;
      // Own keys by for-in, counted first: Object.keys made an array per node and part.
      let count = 0;
      for (const name in entries) if (Object.hasOwn(entries, name)) count++;
      if (count > limits.maxParamsPerNode) {
        issues.push({ node: clip(id), field: part, message: `${count} ${part}; the limit is ${limits.maxParamsPerNode} per node` });
        continue;
      }
      for (const name in entries) {
        if (!Object.hasOwn(entries, name)) continue;
        const problem = nameProblem(name, limits, part === 'params' ? 'param name' : 'input name');
        if (problem) issues.push({ node: clip(id), field: `${part}.${clip(name)}`, message: problem });
        const value = entries[name];
        if (part !== 'inputs' || !Array.isArray(value)) continue;
        // By index: an iterator object per link showed in allocation profiles.
        for (let i = 0; i < value.length; i++) {
          const end: unknown = value[i];
          const endProblem = typeof end === 'string' ? nameProblem(end, limits, 'linked name') : null;
          if (endProblem) issues.push({ node: clip(id), field: `${part}.${clip(name)}`, message: endProblem });
        }
      }
    }
  }
  return { issues, fitting };
}

function refused(issue: WorkflowIssue): { issues: WorkflowIssue[]; fitting: boolean } {
  return { issues: [issue], fitting: false };
}

/** What is wrong with a name from outside, or null. */
function nameProblem(name: string, limits: WorkflowLimits, what: string): string | null {
  if (name.length > limits.maxNameLength) return `${what} of ${name.length} characters; the limit is ${limits.maxNameLength}`;
  if (name === UNUSABLE_NAME) return `'${UNUSABLE_NAME}' cannot be used as a ${what}`;
  return null;
}

/** Every string longer than the limit (the first 20), named by its path. */
function longStrings(value: unknown, base: string[], limits: WorkflowLimits): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  walk(value, (place) => {
    if (typeof place.value === 'string' && place.value.length > limits.maxStringLength) {
      issues.push(workflowIssue([...base, ...pathOf(place)], `a string of ${place.value.length} characters; the limit is ${limits.maxStringLength}`));
    }
    return issues.length === 20;
  });
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
