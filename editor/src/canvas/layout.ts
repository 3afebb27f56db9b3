// The node's fixed geometry. Sockets sit at places computed from these numbers (no DOM reads, so a
// 300-node graph lays out once instead of once per socket); the stylesheet draws nodes with the
// same numbers, handed to it as custom properties of the canvas (no style written per node).

export const NODE_WIDTH = 248;
export const BORDER = 1.5;
export const HEAD = 40;
export const PORTS_PAD = 4;
export const ROW = 24;

/** A socket's centre relative to the node's top-left corner. */
export function socketOffset(side: 'input' | 'output', index: number, width = NODE_WIDTH): { x: number; y: number } {
  return {
    x: side === 'input' ? 0 : width,
    y: BORDER + HEAD + PORTS_PAD + index * ROW + ROW / 2,
  };
}

/** A node's height without its widgets: the header and the taller of its two port columns. */
export function bareHeight(inputs: number, outputs: number): number {
  return 2 * BORDER + HEAD + 2 * PORTS_PAD + Math.max(inputs, outputs) * ROW;
}

/** Hands the geometry to the stylesheet (`var(--node-width)` and so on) for everything under `container`. */
export function applyGeometry(container: HTMLElement): void {
  const px = { '--node-width': NODE_WIDTH, '--node-border': BORDER, '--node-head': HEAD, '--node-ports-pad': PORTS_PAD, '--node-row': ROW };
  for (const [name, value] of Object.entries(px)) container.style.setProperty(name, `${value}px`);
}
