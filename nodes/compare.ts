import { z } from 'zod';
import { defineNode } from '../engine/node';

const operators = {
  '<': (a: number, b: number) => a < b,
  '<=': (a: number, b: number) => a <= b,
  '>': (a: number, b: number) => a > b,
  '>=': (a: number, b: number) => a >= b,
  '==': (a: number, b: number) => a === b,
  '!=': (a: number, b: number) => a !== b,
} as const;

export default defineNode({
  type: 'compare',
  category: 'logic',
  description: 'Compares number a with b (or with the `value` param when b is not connected).',
  inputs: { a: { type: 'number' }, b: { type: 'number', optional: true } },
  outputs: { result: { type: 'boolean' } },
  params: z.object({
    op: z.enum(['<', '<=', '>', '>=', '==', '!=']).default('>='),
    value: z.number().default(0).describe('right-hand side when b is not connected'),
  }),
  run: (inputs, params) => ({
    result: operators[params.op](inputs.a as number, (inputs.b as number | undefined) ?? params.value),
  }),
});
