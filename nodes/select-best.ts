import { z } from 'zod';
import { defineNode } from '../engine/node';

export default defineNode({
  type: 'select-best',
  category: 'logic',
  description: 'Picks the item with the highest score (the first one on a tie).',
  inputs: { items: { type: 'any[]' }, scores: { type: 'number[]' } },
  outputs: { best: { type: 'any' }, score: { type: 'number' }, index: { type: 'number' } },
  params: z.object({ pick: z.enum(['highest', 'lowest']).default('highest') }),
  run: (inputs, params) => {
    const items = inputs.items as unknown[];
    const scores = inputs.scores as number[];
    if (items.length === 0) throw new Error('items is an empty list');
    if (items.length !== scores.length) throw new Error(`${items.length} items but ${scores.length} scores`);
    const better = params.pick === 'highest' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    let index = 0;
    for (let i = 1; i < scores.length; i++) if (better(scores[i], scores[index])) index = i;
    return { best: items[index], score: scores[index], index };
  },
});
