import type { z } from 'zod';
import type { AnyNodeDefinition, Catalog } from './node';
import { DEFAULT_WORKFLOW_LIMITS, limitIssues, type WorkflowLimits } from './limits';
import { applyRunInputs } from './run-inputs';
import { baseOf, isList, linkProblem, listOf, type RunInputs, type SocketType, type Workflow, type WorkflowIssue } from './contract';
import { WorkflowSchema } from './workflow';

export interface GraphLink {
  from: string;
  output: string;
}

/** A node after validation: its definition, parsed params, links and resolved socket types. */
export interface GraphNode {
  id: string;
  definition: AnyNodeDefinition;
  params: Record<string, unknown>;
  links: Record<string, GraphLink>;
  outputTypes: Record<string, SocketType>;
  /** Scalar inputs fed a list: the node runs once per element. */
  mapped: string[];
}

export interface Graph {
  workflow: Workflow;
  nodes: Map<string, GraphNode>;
  /** Topological order (every node after its sources). */
  order: string[];
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
  const tooBig = limitIssues(raw, runInputs, limits);
  if (tooBig.length > 0) return { ok: false, issues: tooBig };
  const parsed = WorkflowSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map(schemaIssue) };

  const applied = applyRunInputs(parsed.data, runInputs, catalog);
  const workflow = applied.workflow;
  const issues = applied.issues;
  const nodes = new Map<string, GraphNode>();
  const declared = new Map(Object.entries(workflow.nodes));

  for (const [id, node] of declared) {
    const definition = catalog.get(node.type);
    if (!definition) {
      issues.push({ node: id, field: 'type', message: `unknown node type '${node.type}'` });
      continue;
    }
    const params = strictParams(definition).safeParse(node.params ?? {});
    if (!params.success) for (const issue of params.error.issues) issues.push(...paramIssues(id, definition, issue));
    nodes.set(id, {
      id,
      definition,
      params: params.success ? params.data : {},
      links: {},
      outputTypes: {},
      mapped: [],
    });
  }

  for (const [id, graphNode] of nodes) {
    const { definition } = graphNode;
    const links = declared.get(id)!.inputs ?? {};
    for (const [input, [from, output]] of Object.entries(links)) {
      const field = `inputs.${input}`;
      if (!Object.hasOwn(definition.inputs, input)) {
        issues.push({ node: id, field, message: `unknown input (inputs: ${listNames(definition.inputs)})` });
      } else if (!declared.has(from)) {
        issues.push({ node: id, field, message: `links to missing node '${from}'` });
      } else {
        const source = nodes.get(from);
        if (!source) continue; // its unknown type is already reported
        if (!Object.hasOwn(source.definition.outputs, output)) {
          issues.push({
            node: id,
            field,
            message: `node '${from}' (${source.definition.type}) has no output '${output}' (outputs: ${listNames(source.definition.outputs)})`,
          });
        } else {
          graphNode.links[input] = { from, output };
        }
      }
    }
    for (const [input, port] of Object.entries(definition.inputs)) {
      if (!port.optional && !Object.hasOwn(links, input)) {
        issues.push({ node: id, field: `inputs.${input}`, message: `required input (${port.type}) is not connected` });
      }
    }
  }

  const { order, cycles } = topologicalOrder(nodes);
  for (const cycle of cycles) {
    issues.push({ node: cycle[0], field: 'inputs', message: `cycle: ${[...cycle, cycle[0]].join(' → ')}` });
  }
  // `order` holds every node not on or behind a cycle, so types are still checked everywhere else.
  issues.push(...inferTypes(nodes, order));

  const outputNames = new Map<string, string>();
  for (const node of nodes.values()) {
    if (!node.definition.output) continue;
    const name = outputName(node);
    const other = outputNames.get(name);
    if (other) issues.push({ node: node.id, field: 'params.name', message: `output name '${name}' is already used by node '${other}'` });
    outputNames.set(name, node.id);
  }
  // Skipped when a node's type is unknown: that node may well be the output.
  if (outputNames.size === 0 && nodes.size === declared.size) {
    issues.push({ node: null, field: 'nodes', message: 'the workflow has no output node (output, save-image or preview)' });
  }

  return issues.length > 0 ? { ok: false, issues } : { ok: true, graph: { workflow, nodes, order } };
}

/** The name an output node's value is reported under: its `name` param, else its id. */
export function outputName(node: GraphNode): string {
  const name = node.params.name;
  return typeof name === 'string' && name !== '' ? name : node.id;
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

/** Kahn's algorithm; nodes left over lie on or behind a cycle, and each cycle is traced back and named. */
function topologicalOrder(nodes: Map<string, GraphNode>): { order: string[]; cycles: string[][] } {
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const node of nodes.values()) {
    indegree.set(node.id, Object.keys(node.links).length);
    for (const { from } of Object.values(node.links)) {
      let list = dependents.get(from);
      if (!list) dependents.set(from, (list = []));
      list.push(node.id);
    }
  }
  const ready = [...indegree].filter(([, d]) => d === 0).map(([id]) => id);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.pop()!;
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  const cycles: string[][] = [];
  if (order.length === nodes.size) return { order, cycles };

  // Every leftover node has a leftover source; walking sources from any of them must revisit a node.
  const leftover = new Set([...indegree].filter(([, d]) => d > 0).map(([id]) => id));
  const traced = new Set<string>();
  for (const start of leftover) {
    if (traced.has(start)) continue;
    const path: string[] = [];
    const position = new Map<string, number>();
    let current = start;
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
function inferTypes(nodes: Map<string, GraphNode>, order: string[]): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  for (const id of order) {
    const node = nodes.get(id)!;
    const { definition } = node;
    let generic: { port: SocketType; source: SocketType } | undefined;
    for (const [input, link] of Object.entries(node.links)) {
      const port = definition.inputs[input].type;
      const sourceTypes = nodes.get(link.from)!.outputTypes;
      if (!Object.hasOwn(sourceTypes, link.output)) continue; // links are checked against the outputs above
      const source = sourceTypes[link.output];
      const problem = linkProblem(source, port);
      if (problem) {
        issues.push({ node: id, field: `inputs.${input}`, message: `${problem} (from '${link.from}.${link.output}')` });
        continue;
      }
      if (isList(source) && !isList(port) && baseOf(port) !== 'any') node.mapped.push(input);
      if (!generic && baseOf(port) === 'any') generic = { port, source };
    }
    const declared = { ...mapValues(definition.outputs, (p) => p.type), ...definition.outputTypes?.(node.params) };
    for (const [output, type] of Object.entries(declared) as [string, SocketType][]) {
      let resolved = type;
      if (baseOf(type) === 'any' && generic) {
        const element = isList(generic.port) ? baseOf(generic.source) : generic.source;
        resolved = isList(type) ? listOf(element) : element;
      }
      node.outputTypes[output] = node.mapped.length > 0 ? listOf(resolved) : resolved;
    }
  }
  return issues;
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}
