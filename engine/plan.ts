import { hash } from 'node:crypto';
import type { Graph, GraphNode } from './graph';
import { portsOf } from './ports';
import type { Services } from './services';

export interface Plan {
  /** The nodes the outputs can need, in topological order. */
  order: string[];
  outputs: string[];
  keys: Map<string, string>;
}

/**
 * Prunes the graph to what its output nodes need and gives each kept node its cache key: a hash of
 * its type, params and its inputs' keys (a Merkle DAG), so each key costs O(inputs), computed once.
 */
export async function planRun(graph: Graph, services: Services): Promise<Plan> {
  const outputs = graph.order.filter((id) => graph.nodes.get(id)!.definition.output);
  const needed = new Set<string>(outputs);
  const stack = [...outputs];
  while (stack.length > 0) {
    // A source the graph lacks is left to the executor, which fails the run naming it.
    const links = graph.nodes.get(stack.pop()!)?.links;
    if (!links) continue;
    for (const input of Object.keys(links)) {
      const from = links[input].from;
      if (!needed.has(from)) {
        needed.add(from);
        stack.push(from);
      }
    }
  }
  const order = graph.order.filter((id) => needed.has(id));

  const keys = new Map<string, string>();
  for (const id of order) {
    const node = graph.nodes.get(id)!;
    let text = `${node.definition.type}\0${paramsText(node.params)}`;
    if (node.definition.cacheSalt) text += `\0${await saltOf(node, services)}`;
    // In the definition's input order, so the key does not depend on how the JSON happens to be ordered.
    for (const input of portsOf(node.definition).inputs) {
      const link = node.links[input];
      if (link) text += `\0${input}=${keys.get(link.from)}.${link.output}`;
    }
    // One-shot hashing of the whole text: a Hash object per node cost more than the rest of planning.
    keys.set(id, hash('sha1', text, 'base64url'));
  }
  return { order, outputs, keys };
}

/** Params as JSON; most nodes of a large workflow set none, and stringifying `{}` per node showed in profiles. */
function paramsText(params: Record<string, unknown>): string {
  for (const _ in params) return JSON.stringify(params);
  return '{}';
}

/**
 * A salt that cannot be read (say, a file path the host forbids) must not fail the plan, where no node
 * would be named: the node gets a key of its own and `run` meets the same problem, failing by name.
 */
async function saltOf(node: GraphNode, services: Services): Promise<string> {
  try {
    return await node.definition.cacheSalt!(node.params, services);
  } catch {
    return '\0unavailable';
  }
}
