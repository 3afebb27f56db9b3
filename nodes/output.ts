import { z } from 'zod';
import { defineNode } from '../engine/node';
import { outputNameParam } from './params';

export default defineNode({
  type: 'output',
  category: 'output',
  description: 'Names a value of any type (text, number, image, lists) as a result of the run.',
  inputs: { value: { type: 'any' } },
  outputs: {},
  params: z.object({ name: outputNameParam }),
  output: 'value',
});
