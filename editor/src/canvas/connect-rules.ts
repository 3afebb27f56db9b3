// The link rules on the canvas: which socket may feed which (the contract's link rule), no node
// feeding itself, no cycle, and the port of a new node that fits a dragged link.

import type { NodeEditor } from 'rete';
import { linkProblem, type CatalogEntry, type SocketType } from '../../../engine/contract';
import type { Schemes } from './node';

export interface LinkEnd {
  nodeId: string;
  side: 'input' | 'output';
  key: string;
}

/** Orders two picked sockets as [output, input]; null when both are on the same side. */
export function orderEnds(a: LinkEnd, b: LinkEnd): [LinkEnd, LinkEnd] | null {
  if (a.side === b.side) return null;
  return a.side === 'output' ? [a, b] : [b, a];
}

/** Whether `to` reaches `from` by following links downstream (adding from → to would close a cycle). */
function reaches(editor: NodeEditor<Schemes>, start: string, goal: string): boolean {
  const next = new Map<string, string[]>();
  for (const c of editor.getConnections()) {
    const list = next.get(c.source);
    if (list) list.push(c.target);
    else next.set(c.source, [c.target]);
  }
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === goal) return true;
    for (const n of next.get(id) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return false;
}

/** Why a link from an output to an input is refused, in a few words; null when it is fine. */
export function linkRefusal(editor: NodeEditor<Schemes>, output: LinkEnd, input: LinkEnd): string | null {
  const source = editor.getNode(output.nodeId);
  const target = editor.getNode(input.nodeId);
  if (!source || !target) return 'node not found';
  if (source.id === target.id) return 'a node cannot feed itself';
  const from = source.outputType(output.key);
  const to = target.inputType(input.key);
  if (!from || !to) return 'unknown socket';
  const problem = linkProblem(from, to);
  if (problem) return `${source.label}.${output.key} (${from}) cannot feed ${target.label}.${input.key} (${to})`;
  if (reaches(editor, target.id, source.id)) return 'that link would make a cycle';
  return null;
}

/**
 * The first port of a node type that a link from a socket could reach: an input that takes it when
 * the link comes from an output, an output that feeds it when from an input. Undefined when none can.
 */
export function compatiblePort(entry: CatalogEntry | undefined, fromSide: 'input' | 'output', fromType: SocketType): string | undefined {
  if (!entry) return undefined;
  if (fromSide === 'output') return entry.inputs.find((p) => linkProblem(fromType, p.type) === null)?.name;
  return entry.outputs.find((p) => linkProblem(p.type, fromType) === null)?.name;
}
