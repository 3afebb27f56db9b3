// A workflow checked once and made into graphs for many runs (a trigger's saved workflow): what does not
// depend on run inputs (limits, schema, params, links, order, types, output names) is worked out once, and
// each run then only checks and applies its inputs, parsing again the params of the nodes they change.
import type { RunInputs, Workflow, WorkflowIssue } from './contract';
import { buildGraph, outputName, parseParams, parseWorkflow, typeGraph, type Graph, type GraphNode, type ValidationResult } from './graph';
import { limitIssues, type WorkflowLimits } from './limits';
import type { Catalog } from './node';
import { applyRunInputs } from './run-inputs';

export interface CompiledGraph {
  /** The workflow's own issues, run inputs aside (a `{variable}` left for them is not one). */
  readonly issues: readonly WorkflowIssue[];
  /** The graph for these run inputs, or every issue: exactly what `buildGraph` gives for the workflow and them. */
  build(inputs: RunInputs): ValidationResult;
}

/**
 * Compiles a workflow for `build`. The document must not change afterwards: a plain one is used as it is,
 * not copied. Graphs share only what is frozen here (each link, output types, mapped inputs); each
 * gets its own node objects, params and link records, so a run that writes to them touches its own alone.
 */
export function compileGraph(raw: unknown, catalog: Catalog, limits: WorkflowLimits): CompiledGraph {
  const parsed = parseWorkflow(raw, {}, limits);
  // Refused as it stands: each build is the full one, which names the run inputs' problems too.
  if (!parsed.ok) return { issues: parsed.issues, build: (inputs) => buildGraph(raw, catalog, inputs, limits) };
  const workflow = parsed.workflow;
  const { ids } = parsed;
  const base = typeGraph(workflow, catalog, {}, ids);
  const own = base.issues.slice(base.inputIssues);
  const reusable = own.length === 0;
  if (reusable) freezeShared(base.graph);
  return {
    issues: own,
    build(inputs) {
      // The document is within the limits, so the run inputs' issues are all the limits can find.
      const tooBig = limitIssues(null, inputs, limits);
      if (tooBig.length > 0) return { ok: false, issues: tooBig };
      const graph = reusable ? reuse(base.graph, workflow, ids, catalog, inputs) : undefined;
      if (graph) return { ok: true, graph };
      const typed = typeGraph(workflow, catalog, inputs, ids);
      return typed.issues.length > 0 ? { ok: false, issues: typed.issues } : { ok: true, graph: typed.graph };
    },
  };
}

/**
 * The base graph with the run inputs applied, or undefined where they may change more than params (an
 * issue, params that fail to parse, an output name or output types that differ): then the caller builds
 * in full, which names every issue in the order it always does.
 */
function reuse(base: Graph, workflow: Workflow, ids: readonly string[], catalog: Catalog, inputs: RunInputs): Graph | undefined {
  const applied = applyRunInputs(workflow, inputs, catalog, ids);
  if (applied.issues.length > 0) return undefined;
  const changed = new Map<string, Record<string, unknown>>();
  for (const id of applied.changed) {
    const node = base.nodes.get(id)!;
    const params = parseParams(node.definition, applied.workflow.nodes[id].params);
    if (!params.success || !sameTyping(node, params.data)) return undefined;
    changed.set(id, params.data);
  }
  const nodes = new Map<string, GraphNode>();
  const list: GraphNode[] = [];
  for (const node of base.list) {
    const copy = { ...node, params: changed.get(node.id) ?? copyParams(node.params), links: { ...node.links } };
    nodes.set(copy.id, copy);
    list.push(copy);
  }
  return { workflow: applied.workflow, nodes, list, order: base.order.map((node) => list[node.index]) };
}

/** Whether a node with these params keeps its output name and output types. */
function sameTyping(node: GraphNode, params: Record<string, unknown>): boolean {
  const { definition } = node;
  if (definition.output && outputName(node) !== outputName({ ...node, params })) return false;
  if (!definition.outputTypes) return true;
  const before: Record<string, unknown> = definition.outputTypes(node.params);
  const after: Record<string, unknown> = definition.outputTypes(params);
  const keys = Object.keys(before);
  return keys.length === Object.keys(after).length && keys.every((key) => Object.hasOwn(after, key) && after[key] === before[key]);
}

/** A run's own copy of params: nested values (rare: params are mostly primitives) are copied too. */
function copyParams(params: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...params };
  for (const key in copy) {
    const value = copy[key];
    if (Object.hasOwn(copy, key) && typeof value === 'object' && value !== null) copy[key] = structuredClone(value);
  }
  return copy;
}

/** What graphs of one compiled workflow share is frozen: the engine only reads it once built. */
function freezeShared(graph: Graph): void {
  for (const node of graph.nodes.values()) {
    for (const input in node.links) if (Object.hasOwn(node.links, input)) Object.freeze(node.links[input]);
    Object.freeze(node.outputTypes);
    Object.freeze(node.mapped);
  }
}
