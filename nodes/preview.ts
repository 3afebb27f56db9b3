import { z } from 'zod';
import { defineNode } from '../engine/node';
import { outputNameParam } from './params';

export default defineNode({
  type: 'preview',
  category: 'output',
  description: 'Shows the image in the editor without keeping it as a saved result.',
  inputs: { image: { type: 'image' } },
  outputs: {},
  params: z.object({ name: outputNameParam }),
  output: 'preview',
});
