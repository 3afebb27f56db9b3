// The node's fixed geometry. Sockets sit at places computed from these numbers (no DOM reads, so a
// 300-node graph lays out once instead of once per socket); the node view applies the same numbers.

export const NODE_WIDTH = 248;
export const BORDER = 1.5;
export const HEAD = 40;
export const HEAD_RULE = 1;
export const PORTS_PAD = 4;
export const ROW = 24;

/** A socket's centre relative to the node's top-left corner. */
export function socketOffset(side: 'input' | 'output', index: number, width = NODE_WIDTH): { x: number; y: number } {
  return {
    x: side === 'input' ? 0 : width,
    y: BORDER + HEAD + HEAD_RULE + PORTS_PAD + index * ROW + ROW / 2,
  };
}

/** A node's height without its widgets: the header and the taller of its two port columns. */
export function bareHeight(inputs: number, outputs: number): number {
  return 2 * BORDER + HEAD + 2 * PORTS_PAD + Math.max(inputs, outputs) * ROW;
}
