import { hash } from 'node:crypto';
import type { Graph, GraphNode } from './graph';
import type { AnyNodeDefinition } from './node';
import { flatParams, sameParams, type FlatParams } from './flat-params';
import { portsOf } from './ports';
import type { Services } from './services';

export interface Plan {
  /** The nodes the outputs can need, in topological order. */
  order: string[];
  outputs: string[];
  keys: Map<string, string>;
}

/**
 * Prunes the graph to what its output nodes need and gives each kept node its cache key: its type, params
 * and its inputs' keys (a Merkle DAG), so each key costs O(inputs), computed once. See `keyOf`.
 */
export async function planRun(graph: Graph, services: Services): Promise<Plan> {
  const outputs = graph.order.filter((id) => graph.nodes.get(id)!.definition.output);
  const needed = new Set<string>(outputs);
  const stack = [...outputs];
  while (stack.length > 0) {
    // A source the graph lacks is left to the executor, which fails the run naming it.
    const links = graph.nodes.get(stack.pop()!)?.links;
    if (!links) continue;
    for (const input in links) {
      if (!Object.hasOwn(links, input)) continue;
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
    let text = keyHead(node);
    if (node.definition.cacheSalt) text += `\0${sized(await saltOf(node, services))}`;
    // In the definition's input order, so the key does not depend on how the JSON happens to be ordered.
    for (const input of portsOf(node.definition).inputs) {
      const link = node.links[input];
      if (link) text += `\0${input}=${sized(keys.get(link.from) ?? '')}.${link.output}`;
    }
    keys.set(id, keyOf(text));
  }
  return { order, outputs, keys };
}

/** Key texts up to this length are keys as they are; a longer one is hashed. */
const LONGEST_PLAIN_KEY = 256;

/**
 * A node's key: its key text itself while short, else the text's SHA-256. Hashing every node's text was
 * most of planning (about 1 µs a call, nearly all of it the call itself), and most texts are short: a
 * node's text holds its sources' keys, so along a chain the texts grow until one is hashed, and only every
 * few nodes pays for a hash. Keys stay collision-resistant: a plain key is its text, and texts are
 * unambiguous (params are JSON, which escapes NUL; salts and source keys carry their length); a plain key
 * holds a NUL and a hashed one (base64url) never does, so the two kinds cannot meet.
 */
function keyOf(text: string): string {
  return text.length <= LONGEST_PLAIN_KEY ? text : hash('sha256', text, 'base64url');
}

/** A text that may hold anything, NUL included, prefixed with its length so it cannot run into what follows. */
function sized(text: string): string {
  return `${text.length}:${text}`;
}

/** A node type's last params, and the head of a key text for them. */
interface LastHead {
  params: FlatParams;
  head: string;
}

const lastHeads = new WeakMap<AnyNodeDefinition, LastHead>();

/**
 * A key text's head: the node's type and its params as JSON. Stringifying params per node showed in
 * profiles: params equal to the last ones of the same node type (see flat-params.ts) reuse that head, one
 * string. They are compared with a copy taken when the head was made, so a params object changed since
 * (by a node's run, say) is never mistaken.
 */
function keyHead(node: GraphNode): string {
  const last = lastHeads.get(node.definition);
  if (last && sameParams(last.params, node.params)) return last.head;
  const head = `${node.definition.type}\0${JSON.stringify(node.params)}`;
  const params = flatParams(node.params);
  if (params) lastHeads.set(node.definition, { params, head });
  return head;
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
