import { z } from 'zod';
import { isImage } from '../engine/image';
import { defineNode } from '../engine/node';
import { modelFor } from '../engine/runtime';
import { modelCheck } from './model-check';
import { modelParam } from './params';

export default defineNode({
  type: 'caption',
  category: 'model',
  description: 'Describes an image in words with a unified model (greedy at temperature 0).',
  inputs: { image: { type: 'image' } },
  outputs: { text: { type: 'text' } },
  params: z.object({
    model: modelParam('caption'),
    maxTokens: z.int().min(1).max(4096).optional().describe("default: the model's"),
    temperature: z.number().min(0).max(5).default(0),
    seed: z.int().min(0).max(2 ** 32 - 1).default(0).describe('used when temperature > 0'),
  }),
  check: modelCheck('caption'),
  run: async (inputs, p, ctx) => {
    if (!isImage(inputs.image)) throw new Error('input image is not an image');
    const model = await modelFor(ctx.services, p.model, 'caption');
    const text = await model.caption(
      inputs.image,
      { maxTokens: p.maxTokens, temperature: p.temperature, seed: p.seed },
      { signal: ctx.signal, onProgress: (step, total) => ctx.progress(step, total) },
    );
    return { text };
  },
});
