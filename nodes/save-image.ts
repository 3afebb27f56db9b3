import { z } from 'zod';
import { defineNode } from '../engine/node';

export const outputNameParam = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_-]*$/, 'use letters, digits, _ and -')
  .default('')
  .describe('name of the result (file name prefix); the node id when empty');

export default defineNode({
  type: 'save-image',
  category: 'output',
  description: 'Saves the image (or list of images) as a result of the run: files from the CLI, artifacts on the server.',
  inputs: { image: { type: 'image' } },
  outputs: {},
  params: z.object({ name: outputNameParam }),
  output: 'save',
});
