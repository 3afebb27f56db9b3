import { z } from 'zod';
import { defineNode } from '../engine/node';
import { outputNameParam } from './params';

export default defineNode({
  type: 'save-image',
  category: 'output',
  description: 'Saves the image (or list of images) as a result of the run: files from the CLI, artifacts on the server.',
  inputs: { image: { type: 'image' } },
  outputs: {},
  params: z.object({ name: outputNameParam }),
  output: 'save',
});
