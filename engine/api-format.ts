// ComfyUI's API format ⇄ workflow JSON v1. Pure functions with no runtime imports, so that the
// server, the CLI and the editor (which knows the catalog only as `GET /api/nodes`) share one converter.
import type { Catalog } from './node';
import type { Link, Workflow, WorkflowIssue, WorkflowNode } from './contract';

/** `["<source id>", <output index>]`: the index counts the source's outputs in catalog order. */
export type ApiLink = [string, number];

export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

/** ComfyUI's API format: node id → `{ class_type, inputs }`; an input holds a constant (a param) or a link. */
export type ApiPrompt = Record<string, ApiNode>;

/** The port names of a node type, in catalog order; undefined for a type the catalog does not know. */
export interface NodePorts {
  inputs: readonly string[];
  outputs: readonly string[];
}
export type PortsOf = (type: string) => NodePorts | undefined;

export type WorkflowFormat = 'v1' | 'api' | 'unknown';

/** Port names from the engine's catalog. */
export function catalogPorts(catalog: Catalog): PortsOf {
  return (type) => {
    const definition = catalog.get(type);
    return definition && { inputs: Object.keys(definition.inputs), outputs: Object.keys(definition.outputs) };
  };
}

/** A JSON object (not null, not an array). */
export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Which format a parsed JSON value is in: v1 names its version; the API format is a non-empty object
 * of node entries that each carry a `class_type`.
 */
export function detectFormat(value: unknown): WorkflowFormat {
  if (!isRecord(value)) return 'unknown';
  if (Object.hasOwn(value, 'version') || Object.hasOwn(value, 'nodes')) return 'v1';
  const entries = Object.values(value);
  return entries.length > 0 && entries.every((node) => isRecord(node) && typeof node.class_type === 'string') ? 'api' : 'unknown';
}

function isApiLink(value: unknown): value is [string | number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    (typeof value[0] === 'string' || Number.isInteger(value[0])) &&
    Number.isInteger(value[1]) &&
    (value[1] as number) >= 0
  );
}

/**
 * API format → workflow v1. A link becomes `[source, outputName]` by the source's catalog outputs; any
 * other input value becomes a param. Problems the conversion itself meets (a malformed entry, a link
 * on a port that takes none, an output index out of range) come back as issues; everything else
 * (unknown types, bad params, links to missing nodes) is left to the engine's validation, which names
 * the node and the field. A node whose `inputs` is no object is kept by its type alone (listed in
 * `typeOnly`), so that links to it still resolve rather than read as links to a missing node; what
 * validation finds about such a node only repeats its conversion issue. Objects keyed by ids from
 * outside have no prototype.
 */
export function fromApiFormat(prompt: unknown, portsOf: PortsOf): { workflow: Workflow; issues: WorkflowIssue[]; typeOnly: string[] } {
  const nodes: Record<string, WorkflowNode> = Object.create(null);
  const issues: WorkflowIssue[] = [];
  const typeOnly: string[] = [];
  if (!isRecord(prompt)) {
    return { workflow: { version: 1, nodes }, issues: [{ node: null, field: 'prompt', message: 'expected an object of node id → { class_type, inputs }' }], typeOnly };
  }
  for (const [id, entry] of Object.entries(prompt)) {
    if (!isRecord(entry) || typeof entry.class_type !== 'string' || entry.class_type === '') {
      issues.push({ node: id, field: 'class_type', message: 'each node needs a class_type (a picflow node type)' });
      continue;
    }
    if (entry.inputs !== undefined && !isRecord(entry.inputs)) {
      issues.push({ node: id, field: 'inputs', message: 'expected an object of input name → constant or ["<node id>", <output index>]' });
      nodes[id] = { type: entry.class_type };
      typeOnly.push(id);
      continue;
    }
    const ports = portsOf(entry.class_type);
    const params: Record<string, unknown> = Object.create(null);
    const links: Record<string, Link> = Object.create(null);
    for (const [name, value] of Object.entries(entry.inputs ?? {})) {
      const isPort = ports ? ports.inputs.includes(name) : isApiLink(value);
      if (!isPort) {
        params[name] = value;
      } else if (!isApiLink(value)) {
        issues.push({ node: id, field: `inputs.${name}`, message: `takes a link ["<node id>", <output index>], got ${JSON.stringify(value)}` });
      } else {
        const [from, index] = [String(value[0]), value[1]];
        const source = Object.hasOwn(prompt, from) ? prompt[from] : undefined;
        const sourcePorts = isRecord(source) && typeof source.class_type === 'string' ? portsOf(source.class_type) : undefined;
        // An unknown source (missing node, unknown type) keeps the index as the name: validation reports the source.
        if (sourcePorts && index >= sourcePorts.outputs.length) {
          const outputs = sourcePorts.outputs.map((o, i) => `${i}: ${o}`).join(', ') || 'none';
          issues.push({ node: id, field: `inputs.${name}`, message: `node '${from}' has no output ${index} (outputs: ${outputs})` });
        } else {
          links[name] = [from, sourcePorts ? sourcePorts.outputs[index] : String(index)];
        }
      }
    }
    const node: WorkflowNode = { type: entry.class_type };
    const title = isRecord(entry._meta) ? entry._meta.title : undefined;
    if (typeof title === 'string') node.title = title;
    if (Object.keys(params).length > 0) node.params = params;
    if (Object.keys(links).length > 0) node.inputs = links;
    nodes[id] = node;
  }
  return { workflow: { version: 1, nodes }, issues, typeOnly };
}

/**
 * Workflow v1 → API format: params and links share `inputs`, each link as its source output's
 * index. Positions, the name and the description have no place in the API format and are dropped.
 */
export function toApiFormat(workflow: Workflow, portsOf: PortsOf): { prompt: ApiPrompt; issues: WorkflowIssue[] } {
  const prompt: ApiPrompt = Object.create(null);
  const issues: WorkflowIssue[] = [];
  for (const [id, node] of Object.entries(workflow.nodes)) {
    const inputs: Record<string, unknown> = Object.create(null);
    for (const [name, value] of Object.entries(node.params ?? {})) inputs[name] = value;
    for (const [name, [from, output]] of Object.entries(node.inputs ?? {})) {
      const source = Object.hasOwn(workflow.nodes, from) ? workflow.nodes[from] : undefined;
      const index = source ? (portsOf(source.type)?.outputs.indexOf(output) ?? -1) : -1;
      if (index < 0) {
        issues.push({ node: id, field: `inputs.${name}`, message: source ? `node '${from}' (${source.type}) has no output '${output}'` : `links to missing node '${from}'` });
      } else if (Object.hasOwn(inputs, name)) {
        issues.push({ node: id, field: `params.${name}`, message: 'has the name of a linked input; the API format holds one value per name' });
      } else {
        inputs[name] = [from, index] satisfies ApiLink;
      }
    }
    prompt[id] = { class_type: node.type, inputs, ...(node.title !== undefined && { _meta: { title: node.title } }) };
  }
  return { prompt, issues };
}

/** Any accepted workflow JSON as v1: API format is converted (with its conversion issues), anything else passes as it is. */
export function asWorkflowV1(value: unknown, portsOf: PortsOf): { workflow: unknown; format: WorkflowFormat; issues: WorkflowIssue[] } {
  const format = detectFormat(value);
  if (format !== 'api') return { workflow: value, format, issues: [] };
  return { ...fromApiFormat(value, portsOf), format };
}
