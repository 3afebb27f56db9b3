import { z } from 'zod';
import { defineNode } from '../engine/node';

export default defineNode({
  type: 'number',
  category: 'utility',
  description: 'A constant number.',
  inputs: {},
  outputs: { number: { type: 'number' } },
  params: z.object({ value: z.number().default(0) }),
  run: (_inputs, params) => ({ number: params.value }),
});
