// The node added where a link was let go on empty canvas (see link-release.ts): placed by the drop
// point and linked to the socket the link came from, through its first port that fits.

import type { Canvas } from './canvas';
import { compatiblePort, type LinkEnd } from './connect-rules';
import { NODE_WIDTH } from './layout';

/** Adds a node of a type at a point, linked to `from`; returns its id, or null for an unknown type. */
export async function addLinkedNode(canvas: Canvas, type: string, at: { x: number; y: number }, from: LinkEnd): Promise<string | null> {
  const source = canvas.editor.getNode(from.nodeId);
  const fromType = from.side === 'output' ? source?.outputType(from.key) : source?.inputType(from.key);
  const port = fromType && compatiblePort(canvas.entry(type), from.side, fromType);
  // Dropped to the right of an output the new node starts at the point; left of an input it ends there.
  const place = from.side === 'output' ? { x: at.x, y: at.y - 40 } : { x: at.x - NODE_WIDTH, y: at.y - 40 };
  const id = await canvas.addNode(type, place);
  if (!id) return id;
  if (port) await canvas.links.connect(from, { nodeId: id, side: from.side === 'output' ? 'input' : 'output', key: port });
  await canvas.bringIntoView(id);
  return id;
}
