// Where nodes go without covering each other: a free spot for a new node, and a graph laid out for
// smaller nodes spread out. Arithmetic on boxes in graph coordinates; the canvas moves the nodes.

import type { Box } from './camera';

/** The space kept between nodes. */
const GAP = 24;

/** The nearest place at or below a box where it covers none of the others (with a gap). */
export function freeSpot(box: Box, others: Box[], gap = GAP): { x: number; y: number } {
  let { y } = box;
  for (let tries = 0; tries < others.length + 1; tries++) {
    const hit = others.find((o) => o.x < box.x + box.w + gap && box.x < o.x + o.w + gap && o.y < y + box.h + gap && y < o.y + o.h + gap);
    if (!hit) break;
    y = hit.y + hit.h + gap;
  }
  return { x: box.x, y };
}

/**
 * Moves boxes down just enough that none overlaps another, keeping columns and order (top to
 * bottom, then left to right). Returns the boxes that moved, with their new `y`.
 */
export function spreadOut<T extends Box>(boxes: T[], gap = GAP): T[] {
  const placed: T[] = [];
  const moved: T[] = [];
  for (const original of [...boxes].sort((a, b) => a.y - b.y || a.x - b.x)) {
    const box = { ...original };
    for (;;) {
      const hit = placed.find((p) => p.x < box.x + box.w && box.x < p.x + p.w && p.y < box.y + box.h + gap && box.y < p.y + p.h + gap);
      if (!hit) break;
      box.y = hit.y + hit.h + gap;
    }
    if (box.y !== original.y) moved.push(box);
    placed.push(box);
  }
  return moved;
}
