// The graph as plain data and back: a snapshot read from the editor (every node, or a set of nodes
// and the links among them), and a snapshot's nodes and links added to it. Saving, copying, loading
// and pasting all go through here.

import type { NodeEditor } from 'rete';
import type { AreaPlugin } from 'rete-area-plugin';
import type { CatalogEntry } from '../../../engine/contract';
import type { GraphSnapshot } from '../serialize';
import { Link, PicNode, type Schemes } from './node';

type Position = (id: string) => { x: number; y: number };

/** The nodes (all, or those in `only`) with their places, and the links among them. */
export function readSnapshot(editor: NodeEditor<Schemes>, position: Position, only?: Set<string>): GraphSnapshot {
  const nodes = editor
    .getNodes()
    .filter((n) => !only || only.has(n.id))
    .map((n) => {
      const { x, y } = position(n.id);
      return { id: n.id, type: n.nodeType, title: n.title, params: n.params, x, y, uiExtra: n.uiExtra };
    });
  const links = editor
    .getConnections()
    .filter((c) => !only || (only.has(c.source) && only.has(c.target)))
    .map((c) => ({ source: c.source, sourceOutput: String(c.sourceOutput), target: c.target, targetInput: String(c.targetInput) }));
  return { nodes, links };
}

/**
 * A snapshot's nodes, made from their catalog entries. A type the catalog lacks still gets a node,
 * with the ports its links name, so a file from a newer server loads and saves without losing links.
 */
export function makeNodes(snapshot: GraphSnapshot, catalog: ReadonlyMap<string, CatalogEntry>): PicNode[] {
  return snapshot.nodes.map((entry) => {
    const spec = catalog.get(entry.type) ?? null;
    const fallback = spec
      ? undefined
      : {
          inputs: [...new Set(snapshot.links.filter((l) => l.target === entry.id).map((l) => l.targetInput))],
          outputs: [...new Set(snapshot.links.filter((l) => l.source === entry.id).map((l) => l.sourceOutput))],
        };
    return new PicNode(entry.id, entry.type, spec, { ...entry.params }, entry.title, fallback, entry.uiExtra ?? {});
  });
}

/** Adds a snapshot's nodes (made by makeNodes, in its order) at their places, then its links. */
export async function addSnapshot(
  editor: NodeEditor<Schemes>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  area: AreaPlugin<Schemes, any>,
  snapshot: GraphSnapshot,
  nodes: PicNode[],
): Promise<PicNode[]> {
  for (const [i, node] of nodes.entries()) {
    await editor.addNode(node);
    await area.translate(node.id, { x: snapshot.nodes[i].x, y: snapshot.nodes[i].y });
  }
  for (const l of snapshot.links) {
    const source = editor.getNode(l.source);
    const target = editor.getNode(l.target);
    // A link to a node or port that does not exist is left out here; the server names it on validation.
    if (!source || !target || !source.outputs[l.sourceOutput] || !target.inputs[l.targetInput]) continue;
    await editor.addConnection(new Link(source, l.sourceOutput, target, l.targetInput));
  }
  return nodes;
}
