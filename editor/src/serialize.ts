// Canvas ↔ workflow JSON v1 (DESIGN "Workflow JSON, version 1"): the same file the CLI runs, with node
// positions kept in `ui`. Pure functions over a plain snapshot, so they are tested without a browser.

import type { Link, Workflow, WorkflowNode } from '../../engine/contract';

export interface SnapshotNode {
  id: string;
  type: string;
  title?: string;
  params: Record<string, unknown>;
  x: number;
  y: number;
  /** `ui` fields other than x and y, kept as they were. */
  uiExtra?: Record<string, unknown>;
}

export interface SnapshotLink {
  source: string;
  sourceOutput: string;
  target: string;
  targetInput: string;
}

export interface GraphSnapshot {
  nodes: SnapshotNode[];
  links: SnapshotLink[];
}

export function toWorkflow(snapshot: GraphSnapshot, meta: { name?: string; description?: string } = {}): Workflow {
  const inputs = new Map<string, Record<string, Link>>();
  for (const link of snapshot.links) {
    const record = inputs.get(link.target) ?? {};
    record[link.targetInput] = [link.source, link.sourceOutput];
    inputs.set(link.target, record);
  }
  const nodes: Record<string, WorkflowNode> = {};
  for (const node of snapshot.nodes) {
    const out: WorkflowNode = { type: node.type };
    if (node.title && node.title !== node.type) out.title = node.title;
    const params = Object.fromEntries(Object.entries(node.params).filter(([, v]) => v !== undefined));
    if (Object.keys(params).length > 0) out.params = params;
    const links = inputs.get(node.id);
    if (links) out.inputs = sortKeys(links);
    out.ui = { ...(node.uiExtra ?? {}), x: Math.round(node.x), y: Math.round(node.y) };
    nodes[node.id] = out;
  }
  return {
    version: 1,
    ...(meta.name ? { name: meta.name } : {}),
    ...(meta.description ? { description: meta.description } : {}),
    nodes,
  };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class WorkflowFileError extends Error {}

/** Reads a parsed JSON value as workflow v1, with a short reason when it is not one. */
export function parseWorkflow(value: unknown): Workflow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WorkflowFileError('not a workflow: expected a JSON object');
  const record = value as Record<string, unknown>;
  // A saved-workflow record or a template wraps the workflow.
  if (record.version === undefined && typeof record.workflow === 'object' && record.workflow !== null) return parseWorkflow(record.workflow);
  if (record.version !== 1) throw new WorkflowFileError(`not a workflow v1 file (version: ${JSON.stringify(record.version)})`);
  if (typeof record.nodes !== 'object' || record.nodes === null || Array.isArray(record.nodes)) {
    throw new WorkflowFileError('not a workflow: "nodes" must be an object of nodes by id');
  }
  for (const [id, node] of Object.entries(record.nodes as Record<string, unknown>)) {
    if (typeof node !== 'object' || node === null || typeof (node as WorkflowNode).type !== 'string') {
      throw new WorkflowFileError(`node '${id}' has no type`);
    }
    const inputs = (node as WorkflowNode).inputs ?? {};
    for (const [input, link] of Object.entries(inputs)) {
      if (!Array.isArray(link) || link.length !== 2 || typeof link[0] !== 'string' || typeof link[1] !== 'string') {
        throw new WorkflowFileError(`node '${id}' input '${input}' must be [sourceNodeId, outputName]`);
      }
    }
  }
  return value as Workflow;
}

export const COLUMN = 320;
export const ROW = 240;

/**
 * The snapshot of a workflow. Nodes without `ui` positions are laid out in columns by depth
 * (sources left), which keeps files written by hand readable; auto-arrange can refine it.
 */
export function fromWorkflow(workflow: Workflow): GraphSnapshot {
  const ids = Object.keys(workflow.nodes);
  const links: SnapshotLink[] = [];
  for (const [target, node] of Object.entries(workflow.nodes)) {
    for (const [targetInput, [source, sourceOutput]] of Object.entries(node.inputs ?? {})) {
      links.push({ source, sourceOutput, target, targetInput });
    }
  }
  const missing = ids.filter((id) => !isPosition(workflow.nodes[id].ui));
  const fallback = missing.length > 0 ? layeredPositions(ids, links) : new Map<string, { x: number; y: number }>();
  const nodes = ids.map((id): SnapshotNode => {
    const node = workflow.nodes[id];
    const { x, y, ...uiExtra } = isPosition(node.ui) ? node.ui : { ...(node.ui ?? {}), ...fallback.get(id)! };
    return {
      id,
      type: node.type,
      title: node.title,
      params: { ...(node.params ?? {}) },
      x: x as number,
      y: y as number,
      uiExtra: Object.keys(uiExtra).length > 0 ? uiExtra : undefined,
    };
  });
  return { nodes, links };
}

function isPosition(ui: unknown): ui is { x: number; y: number } {
  return typeof ui === 'object' && ui !== null && Number.isFinite((ui as { x: number }).x) && Number.isFinite((ui as { y: number }).y);
}

/** Columns by longest path from a source; iterative, and nodes on a cycle simply stay in column 0. */
export function layeredPositions(ids: string[], links: SnapshotLink[]): Map<string, { x: number; y: number }> {
  const known = new Set(ids);
  const indegree = new Map(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>();
  for (const l of links) {
    if (!known.has(l.source) || !known.has(l.target)) continue;
    indegree.set(l.target, indegree.get(l.target)! + 1);
    next.set(l.source, [...(next.get(l.source) ?? []), l.target]);
  }
  const depth = new Map(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const t of next.get(id) ?? []) {
      depth.set(t, Math.max(depth.get(t)!, depth.get(id)! + 1));
      indegree.set(t, indegree.get(t)! - 1);
      if (indegree.get(t) === 0) queue.push(t);
    }
  }
  const rows = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number }>();
  for (const id of ids) {
    const d = depth.get(id)!;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    positions.set(id, { x: d * COLUMN, y: row * ROW });
  }
  return positions;
}

/** A fresh node id for a type that no node in `taken` has: `generate`, `generate-2`, … */
export function freshId(type: string, taken: (id: string) => boolean): string {
  const base = type.replace(/[^A-Za-z0-9_-]/g, '-') || 'node';
  if (!taken(base)) return base;
  for (let n = 2; ; n++) {
    const id = `${base}-${n}`;
    if (!taken(id)) return id;
  }
}

/** JSON with object keys sorted, to compare two workflows regardless of key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Re-ids a fragment (copied nodes and the links among them) so it can be pasted next to the
 * originals; positions are moved so the fragment's top-left corner lands at `at` (by default a
 * little right of and below where it was).
 */
export function remapFragment(
  fragment: GraphSnapshot,
  taken: (id: string) => boolean,
  at?: { x: number; y: number },
): GraphSnapshot {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const node of fragment.nodes) {
    const id = freshId(node.type, (candidate) => taken(candidate) || used.has(candidate));
    used.add(id);
    ids.set(node.id, id);
  }
  const minX = Math.min(...fragment.nodes.map((n) => n.x));
  const minY = Math.min(...fragment.nodes.map((n) => n.y));
  const to = at ?? { x: minX + 40, y: minY + 40 };
  return {
    nodes: fragment.nodes.map((n) => ({ ...n, params: structuredClone(n.params), id: ids.get(n.id)!, x: n.x - minX + to.x, y: n.y - minY + to.y })),
    links: fragment.links
      .filter((l) => ids.has(l.source) && ids.has(l.target))
      .map((l) => ({ ...l, source: ids.get(l.source)!, target: ids.get(l.target)! })),
  };
}
