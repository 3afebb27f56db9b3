import type { z } from 'zod';
import type { AnyNodeDefinition, Catalog } from './node';
import { DEFAULT_WORKFLOW_LIMITS, limitIssues, type WorkflowLimits } from './limits';
import { applyRunInputs } from './run-inputs';
import { baseOf, isList, linkProblem, listOf, type RunInputs, type SocketType, type Workflow, type WorkflowIssue, type WorkflowNode } from './contract';
import { hasPlainShell, isPlainEntry } from './plain-workflow';
import { flatParams, sameParams, type FlatParams } from './flat-params';
import { portsOf } from './ports';
import { WorkflowSchema } from './workflow';

export interface GraphLink {
  from: string;
  output: string;
  /** The source node's index (see GraphNode.index). */
  source: number;
}

/** A node after validation: its definition, parsed params, links and resolved socket types. */
export interface GraphNode {
  id: string;
  /** Its place in `Graph.list`: what a run keeps per node it keeps in arrays by this, not in Maps by id (Map lookups were most of what a node cost more in a large workflow than in a small one). */
  index: number;
  definition: AnyNodeDefinition;
  params: Record<string, unknown>;
  /** Connected inputs, in the workflow's order; made here with own keys only, so hot loops walk it with for-in (no key array). */
  links: Record<string, GraphLink>;
  /** Shared, frozen, by the nodes of a type whose outputs have their declared types. */
  outputTypes: Readonly<Record<string, SocketType>>;
  /** Scalar inputs fed a list: the node runs once per element. */
  mapped: readonly string[];
}

/** Where a node maps no input: one frozen list, not an array per node. */
const NONE_MAPPED: readonly string[] = Object.freeze([]);
const NO_TYPES: Readonly<Record<string, SocketType>> = Object.freeze({});

export interface Graph {
  workflow: Workflow;
  nodes: Map<string, GraphNode>;
  /** The nodes of `nodes` in its order, each at its index. */
  list: GraphNode[];
  /** Topological order (every node after its sources). */
  order: GraphNode[];
}

/** A link's source node: the graph's node at the link's index, when that is the node the link names (a graph changed by hand may hold a link to a node it lacks). */
export function linkedNode(graph: Graph, link: GraphLink): GraphNode | undefined {
  const node = graph.list[link.source];
  return node !== undefined && node.id === link.from ? node : undefined;
}

export type ValidationResult = { ok: true; graph: Graph } | { ok: false; issues: WorkflowIssue[] };

/**
 * Checks a workflow against the catalog and returns every problem at once, or the typed graph.
 * Iterative throughout, so a chain 10,000 nodes deep validates like a short one. Every name comes
 * from outside: lookups go through Maps and own-property checks, never `in` or a bare `obj[name]`.
 */
export function buildGraph(
  raw: unknown,
  catalog: Catalog,
  runInputs: RunInputs = {},
  limits: WorkflowLimits = DEFAULT_WORKFLOW_LIMITS,
): ValidationResult {
  const parsed = parseWorkflow(raw, runInputs, limits);
  if (!parsed.ok) return parsed;
  const typed = typeGraph(parsed.workflow, catalog, runInputs, parsed.ids);
  return typed.issues.length > 0 ? { ok: false, issues: typed.issues } : { ok: true, graph: typed.graph };
}

/**
 * The raw document within the limits (its run inputs too) and as the schema reads it, with its node ids in
 * order; nothing more is checked. The ids are listed once for every step: listing the keys of a large table
 * costs more per key the larger it is, and each step listing them again showed in profiles.
 */
export function parseWorkflow(
  raw: unknown,
  runInputs: RunInputs,
  limits: WorkflowLimits,
): { ok: true; workflow: Workflow; ids: readonly string[] } | { ok: false; issues: WorkflowIssue[] } {
  const table = typeof raw === 'object' && raw !== null ? (raw as { nodes?: unknown }).nodes : undefined;
  const ids = typeof table === 'object' && table !== null && !Array.isArray(table) ? Object.keys(table) : undefined;
  // Whether the schema would take the document as it is (plain-workflow.ts), each node checked as the limits'
  // walk reads it: a walk of its own read every node again, after the limits' walk had left the cache.
  let plain = hasPlainShell(raw);
  const tooBig = limitIssues(raw, runInputs, limits, ids, plain ? (id, node) => (plain &&= isPlainEntry(id, node)) : undefined);
  if (tooBig.length > 0) return { ok: false, issues: tooBig };
  if (plain) return { ok: true, workflow: raw as Workflow, ids: ids! };
  const result = WorkflowSchema.safeParse(raw);
  if (!result.success) return { ok: false, issues: result.error.issues.map(schemaIssue) };
  return { ok: true, workflow: result.data, ids: Object.keys(result.data.nodes) };
}

/** A parsed workflow's graph with run inputs applied, and every issue found on the way. */
export interface TypedGraph {
  /** Complete only when `issues` is empty. */
  graph: Graph;
  /** The run inputs' issues first (`inputIssues` of them), then the workflow's own as it stands with them applied. */
  issues: WorkflowIssue[];
  inputIssues: number;
  /** Nodes whose params the run inputs set. */
  changed: readonly string[];
}

/** Applies the run inputs, then checks params, links, order, types and output names of a parsed workflow (`ids`: its node ids, when listed). */
export function typeGraph(parsed: Workflow, catalog: Catalog, runInputs: RunInputs, ids: readonly string[] = Object.keys(parsed.nodes)): TypedGraph {
  const applied = applyRunInputs(parsed, runInputs, catalog, ids);
  const workflow = applied.workflow;
  const issues = applied.issues;
  const inputIssues = issues.length;
  const nodes = new Map<string, GraphNode>();
  const list: GraphNode[] = [];
  const declared = workflow.nodes;

  // Each graph node's declared inputs, read while its declared node is at hand: the link pass below then
  // reads neither the node again (a cache miss per node on large workflows) nor looks it up by id.
  const declaredInputs: (WorkflowNode['inputs'] | undefined)[] = [];
  // The loops over every node go by index: for-of made an iterator result per node here in allocation profiles.
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const node = declared[id];
    const definition = catalog.get(node.type);
    if (!definition) {
      issues.push({ node: id, field: 'type', message: `unknown node type '${node.type}'` });
      continue;
    }
    const params = parseParams(definition, node.params);
    if (!params.success) for (const issue of params.error.issues) issues.push(...paramIssues(id, definition, issue));
    const graphNode: GraphNode = {
      id,
      index: list.length,
      definition,
      params: params.success ? params.data : {},
      links: {},
      outputTypes: NO_TYPES,
      mapped: NONE_MAPPED,
    };
    nodes.set(id, graphNode);
    list.push(graphNode);
    declaredInputs.push(node.inputs);
  }

  for (let i = 0; i < list.length; i++) {
    const graphNode = list[i];
    const { id, definition } = graphNode;
    const links = declaredInputs[graphNode.index] ?? {};
    for (const input in links) {
      if (!Object.hasOwn(links, input)) continue;
      // By index: destructuring a link makes an iterator per link.
      const link = links[input];
      const from = link[0];
      const output = link[1];
      const source = nodes.get(from);
      if (!Object.hasOwn(definition.inputs, input)) {
        issues.push({ node: id, field: `inputs.${input}`, message: `unknown input (inputs: ${listNames(definition.inputs)})` });
      } else if (!source) {
        // A declared source missing here has an unknown type, already reported.
        if (!Object.hasOwn(declared, from)) issues.push({ node: id, field: `inputs.${input}`, message: `links to missing node '${from}'` });
      } else if (!Object.hasOwn(source.definition.outputs, output)) {
        issues.push({
          node: id,
          field: `inputs.${input}`,
          message: `node '${from}' (${source.definition.type}) has no output '${output}' (outputs: ${listNames(source.definition.outputs)})`,
        });
      } else {
        // The source's own id string, not the document's copy of it: checking a link against its node (see
        // linkedNode) is then a pointer comparison, not a comparison of characters.
        graphNode.links[input] = { from: source.id, output, source: source.index };
      }
    }
    const required = portsOf(definition).required;
    for (let r = 0; r < required.length; r++) {
      const input = required[r];
      if (!Object.hasOwn(links, input)) {
        issues.push({ node: id, field: `inputs.${input}`, message: `required input (${definition.inputs[input].type}) is not connected` });
      }
    }
  }

  const { order, cycles } = topologicalOrder(list, nodes);
  for (const cycle of cycles) {
    issues.push({ node: cycle[0], field: 'inputs', message: `cycle: ${[...cycle, cycle[0]].join(' → ')}` });
  }
  // `order` holds every node not on or behind a cycle, so types are still checked everywhere else.
  issues.push(...inferTypes(list, order));

  const outputNames = new Map<string, string>();
  for (let i = 0; i < list.length; i++) {
    const node = list[i];
    if (!node.definition.output) continue;
    const name = outputName(node);
    const other = outputNames.get(name);
    if (other) issues.push({ node: node.id, field: 'params.name', message: `output name '${name}' is already used by node '${other}'` });
    outputNames.set(name, node.id);
  }
  // Skipped when a node's type is unknown: that node may well be the output.
  if (outputNames.size === 0 && nodes.size === ids.length) {
    issues.push({ node: null, field: 'nodes', message: 'the workflow has no output node (output, save-image or preview)' });
  }

  return { graph: { workflow, nodes, list, order }, issues, inputIssues, changed: applied.changed };
}

/** The name an output node's value is reported under: its `name` param, else its id. */
export function outputName(node: GraphNode): string {
  const name = node.params.name;
  return typeof name === 'string' && name !== '' ? name : node.id;
}

/** What a node without params is checked as: one frozen object, not an empty one per node. */
const NO_PARAMS: Record<string, unknown> = Object.freeze({});

export type ParsedParams = { success: true; data: Record<string, unknown> } | { success: false; error: z.ZodError };

/** A node type's last params that parsed (see flat-params.ts) and what they parsed to, all primitives too; null where reuse is off. */
const lastParses = new WeakMap<AnyNodeDefinition, { params: FlatParams; data: FlatParams } | null>();

/**
 * A node's params as its definition reads them (defaults filled), refusing params it does not know.
 * Zod per node was a good part of validating a large workflow: params equal to the last ones of the same
 * node type get a fresh copy of what those parsed to. A type whose schema parses the same params to
 * different values (a default made by a function, say) is found on its first parse and never reused.
 */
export function parseParams(definition: AnyNodeDefinition, given: Record<string, unknown> | undefined): ParsedParams {
  const params = given ?? NO_PARAMS;
  const last = lastParses.get(definition);
  if (last && sameParams(last.params, params)) return { success: true, data: objectOf(last.data) };
  const result = strictParams(definition).safeParse(params);
  if (!result.success || last === null) return result;
  const flat = flatParams(params);
  const data = flat && flatParams(result.data);
  if (flat && data) {
    const again = last === undefined ? strictParams(definition).safeParse(params) : undefined;
    lastParses.set(definition, again && !(again.success && sameParams(data, again.data)) ? null : { params: flat, data });
  }
  return result;
}

function objectOf(flat: FlatParams): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = 0; i < flat.keys.length; i++) object[flat.keys[i]] = flat.values[i];
  return object;
}

const strictSchemas = new WeakMap<AnyNodeDefinition, z.ZodObject>();
function strictParams(definition: AnyNodeDefinition): z.ZodObject {
  const known = strictSchemas.get(definition);
  if (known) return known;
  const schema: z.ZodObject = definition.params.strict();
  strictSchemas.set(definition, schema);
  return schema;
}

function listNames(ports: Record<string, unknown>): string {
  return Object.keys(ports).join(', ') || 'none';
}

function schemaIssue(issue: z.core.$ZodIssue): WorkflowIssue {
  const path = issue.path.map(String);
  if (path[0] === 'nodes' && path.length >= 2) {
    return { node: path[1], field: path.slice(2).join('.') || '(node)', message: issue.message };
  }
  return { node: null, field: path.join('.') || '(workflow)', message: issue.message };
}

function paramIssues(node: string, definition: AnyNodeDefinition, issue: z.core.$ZodIssue): WorkflowIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(definition.params.shape).join(', ') || 'none';
    return issue.keys.map((key) => ({ node, field: `params.${key}`, message: `unknown param (params: ${known})` }));
  }
  return [{ node, field: ['params', ...issue.path.map(String)].join('.'), message: issue.message }];
}

/**
 * Kahn's algorithm over node indices (links as flat arrays, no Map or list per node); nodes left over lie
 * on or behind a cycle, and each cycle is traced back and named.
 */
function topologicalOrder(list: GraphNode[], nodes: Map<string, GraphNode>): { order: GraphNode[]; cycles: string[][] } {
  const count = list.length;
  // Links grouped by source, in node then link order: dependents[start[s] .. start[s + 1]). Counted on one
  // pass and placed on a second, so no list of links is built (two arrays grown per link showed in profiles).
  const indegree = new Int32Array(count);
  const start = new Int32Array(count + 1);
  for (const node of list) {
    for (const input in node.links) {
      if (!Object.hasOwn(node.links, input)) continue;
      indegree[node.index]++;
      start[node.links[input].source + 1]++;
    }
  }
  for (let i = 0; i < count; i++) start[i + 1] += start[i];
  const next = start.slice(0, count);
  const dependents = new Int32Array(start[count]);
  for (const node of list) {
    for (const input in node.links) if (Object.hasOwn(node.links, input)) dependents[next[node.links[input].source]++] = node.index;
  }

  const ready: number[] = [];
  for (let i = 0; i < count; i++) if (indegree[i] === 0) ready.push(i);
  const order: GraphNode[] = [];
  while (ready.length > 0) {
    const i = ready.pop()!;
    order.push(list[i]);
    for (let d = start[i]; d < start[i + 1]; d++) if (--indegree[dependents[d]] === 0) ready.push(dependents[d]);
  }
  const cycles: string[][] = [];
  if (order.length === count) return { order, cycles };

  // Every leftover node has a leftover source; walking sources from any of them must revisit a node.
  const leftover = new Set(list.filter((node) => indegree[node.index] > 0).map((node) => node.id));
  const traced = new Set<string>();
  for (const first of leftover) {
    if (traced.has(first)) continue;
    const path: string[] = [];
    const position = new Map<string, number>();
    let current = first;
    while (!position.has(current) && !traced.has(current)) {
      position.set(current, path.length);
      path.push(current);
      current = Object.values(nodes.get(current)!.links).find((l) => leftover.has(l.from))!.from;
    }
    if (position.has(current)) cycles.push(path.slice(position.get(current)).reverse());
    for (const id of path) traced.add(id);
  }
  return { order, cycles };
}

/** Resolves every output's socket type in topological order and checks each link's types. */
function inferTypes(list: GraphNode[], order: GraphNode[]): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  // By index: for-of made an iterator result per node in allocation profiles.
  for (let n = 0; n < order.length; n++) {
    const node = order[n];
    const { id, definition, links } = node;
    let generic: { port: SocketType; source: SocketType } | undefined;
    let mapped: string[] | undefined;
    for (const input in links) {
      if (!Object.hasOwn(links, input)) continue;
      const link = links[input];
      const port = definition.inputs[input].type;
      const sourceTypes = list[link.source].outputTypes;
      if (!Object.hasOwn(sourceTypes, link.output)) continue; // links are checked against the outputs above
      const source = sourceTypes[link.output];
      const problem = linkProblem(source, port);
      if (problem) {
        issues.push({ node: id, field: `inputs.${input}`, message: `${problem} (from '${link.from}.${link.output}')` });
        continue;
      }
      if (isList(source) && !isList(port) && baseOf(port) !== 'any') (mapped ??= []).push(input);
      if (!generic && baseOf(port) === 'any') generic = { port, source };
    }
    if (mapped) node.mapped = mapped;
    const ports = portsOf(definition);
    // The usual node: its outputs are what its type declares, and it shares its type's record of them.
    if (!mapped && !definition.outputTypes && (!generic || !ports.genericOutputs)) {
      node.outputTypes = ports.declaredTypes;
      continue;
    }
    // Types that depend on params override the declared ones (and may add outputs of their own).
    const withParams = definition.outputTypes && Object.entries({ ...ports.declaredTypes, ...definition.outputTypes(node.params) });
    const types: Record<string, SocketType> = {};
    for (const [output, type] of (withParams ?? ports.outputTypes) as [string, SocketType][]) {
      let resolved = type;
      if (baseOf(type) === 'any' && generic) {
        const element = isList(generic.port) ? baseOf(generic.source) : generic.source;
        resolved = isList(type) ? listOf(element) : element;
      }
      types[output] = mapped ? listOf(resolved) : resolved;
    }
    node.outputTypes = types;
  }
  return issues;
}
