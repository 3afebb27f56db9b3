import { hash } from 'node:crypto';
import { linkedNode, type Graph, type GraphNode } from './graph';
import type { CacheEntry, OutputCache } from './cache';
import type { AnyNodeDefinition } from './node';
import { flatParams, sameParams, type FlatParams } from './flat-params';
import { portsOf } from './ports';
import type { Services } from './services';

export interface Plan {
  /** The nodes the outputs can need, in topological order. */
  nodes: GraphNode[];
  /** The output nodes, in topological order. */
  outputs: GraphNode[];
  /** Cache entries by node index (GraphNode.index); a node the outputs do not need has none. */
  entries: (CacheEntry | undefined)[];
}

/**
 * Prunes the graph to what its output nodes need and gives each kept node its entry in the cache, by its
 * key text: the key of its head (type and params), its salt, and its inputs' keys (a Merkle DAG), so each
 * key costs O(inputs), computed once.
 */
export async function planRun(graph: Graph, services: Services, cache: OutputCache): Promise<Plan> {
  const outputs = graph.order.filter((node) => node.definition.output);
  const needed = new Uint8Array(graph.list.length);
  for (const node of outputs) needed[node.index] = 1;
  const stack = [...outputs];
  while (stack.length > 0) {
    const links = stack.pop()!.links;
    for (const input in links) {
      if (!Object.hasOwn(links, input)) continue;
      // A source the graph lacks is left to the executor, which fails the run naming it.
      const source = linkedNode(graph, links[input]);
      if (source && !needed[source.index]) {
        needed[source.index] = 1;
        stack.push(source);
      }
    }
  }
  const nodes = graph.order.filter((node) => needed[node.index]);

  const entries = new Array<CacheEntry | undefined>(graph.list.length);
  const heads = headsFor(cache);
  // A key text is joined from its parts, not built by concatenation: the cache keeps each text, and a
  // concatenated one stays a tree of partial strings (50 bytes more a text, for as long as the cache holds it).
  const parts: string[] = [];
  // Loops by index: for-of across the await below made an iterator result per node and input in allocation profiles.
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n];
    parts[0] = headPrefix(node, cache, heads);
    parts.length = 1; // not 0: an array emptied drops its storage, and pushing again allocates it anew (per node)
    if (node.definition.cacheSalt) parts.push('\0', sized(await saltOf(node, services)));
    // In the definition's input order, so the key does not depend on how the JSON happens to be ordered.
    const inputs = portsOf(node.definition).inputs;
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      const link = node.links[input];
      if (link) parts.push('\0', input, '=', (linkedNode(graph, link) && entries[link.source]?.key) ?? '', '.', link.output);
    }
    entries[node.index] = entryOf(parts.join(''), cache);
  }
  return { nodes, outputs, entries };
}

/** Texts up to this length name themselves; a longer one (long params, long salts) by its hash. */
const LONGEST_PLAIN_TEXT = 256;

/**
 * The cache's entry for a text (a node's key text, or a head text), or for the text's SHA-256 when the text
 * is long, so the cache's table holds no text longer than LONGEST_PLAIN_TEXT. Hashing every text was most of
 * planning (about 1 µs a call, nearly all of it the call itself); only long params or salts pay for it.
 * An entry stands for one text: texts are unambiguous (params are JSON, which escapes NUL; salts carry their
 * length; head and source keys are the cache's base-36 numbers, port names the catalog's), and a plain
 * text holds a NUL where a hashed one (base64url) never does, so the two kinds cannot meet.
 */
function entryOf(text: string, cache: OutputCache): CacheEntry {
  return cache.entryFor(text.length <= LONGEST_PLAIN_TEXT ? text : hash('sha256', text, 'base64url'));
}

/** A text that may hold anything, NUL included, prefixed with its length so it cannot run into what follows. */
function sized(text: string): string {
  return `${text.length}:${text}`;
}

/** A node type's last params, and the start of key texts for them in one cache. */
interface LastHead {
  params: FlatParams;
  prefix: string;
}

/** By cache, weakly: a cache no engine uses any more is not kept alive for its heads. */
const lastHeads = new WeakMap<OutputCache, WeakMap<AnyNodeDefinition, LastHead>>();

function headsFor(cache: OutputCache): WeakMap<AnyNodeDefinition, LastHead> {
  let heads = lastHeads.get(cache);
  if (!heads) lastHeads.set(cache, (heads = new WeakMap()));
  return heads;
}

/**
 * A key text starts with the cache's key for its head text, and a NUL: the head is the node's type and its
 * params as JSON, the part many nodes share; it starts with a NUL itself, so a head text (NUL first) and a
 * node's text (a key first) cannot meet in the cache's table. A head in every text made the texts long
 * (hashing and holding them was most of the cache's work on a large workflow), and stringifying params per
 * node showed in profiles: params equal to the last ones of the same node type (see flat-params.ts) reuse
 * that head's key, without a lookup. They are compared with a copy taken when the key was given, so a params
 * object changed since (by a node's run, say) is never mistaken; and a key stays the name of its head even
 * once the cache forgets it (keys are never given twice), so what is cached under texts holding it is never
 * mistaken either.
 */
function headPrefix(node: GraphNode, cache: OutputCache, heads: WeakMap<AnyNodeDefinition, LastHead>): string {
  const last = heads.get(node.definition);
  if (last && sameParams(last.params, node.params)) return last.prefix;
  const prefix = `${entryOf(`\0${node.definition.type}\0${JSON.stringify(node.params)}`, cache).key}\0`;
  const params = flatParams(node.params);
  if (params) heads.set(node.definition, { params, prefix });
  return prefix;
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
