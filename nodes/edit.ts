import { z } from 'zod';
import { isImage } from '../engine/image';
import { defineNode } from '../engine/node';
import { modelFor } from '../engine/runtime';

/** Sampling params shared by generate and edit; unset ones take the model's own defaults (its manifest). */
export const samplingParams = z.object({
  model: z.string().min(1).max(128).default('tiny-shapes'),
  seed: z.int().min(0).max(2 ** 32 - 1).default(0),
  count: z.int().min(1).max(16).default(1),
  cfg: z.number().min(1).max(20).optional().describe('guidance scale (1 = none); default: the model\'s'),
  temperature: z.number().min(0).max(5).optional().describe('0 = greedy; default: the model\'s'),
  topK: z.int().min(0).max(100_000).optional().describe('0 = off; default: the model\'s'),
  topP: z.number().gt(0).max(1).optional().describe('1 = off; default: the model\'s'),
});

export default defineNode({
  type: 'edit',
  category: 'model',
  description: 'Edits an image by an instruction (e.g. "make the background yellow") with a unified model.',
  inputs: { image: { type: 'image' }, instruction: { type: 'text' } },
  outputs: { image: { type: 'image', description: 'a list (image[]) when count > 1' } },
  params: samplingParams,
  outputTypes: (p) => (p.count > 1 ? { image: 'image[]' } : {}),
  run: async (inputs, p, ctx) => {
    if (!isImage(inputs.image)) throw new Error('input image is not an image');
    const model = await modelFor(ctx.services, p.model, 'edit');
    const images = await model.edit(
      inputs.image,
      inputs.instruction as string,
      { seed: p.seed, count: p.count, cfg: p.cfg, temperature: p.temperature, topK: p.topK, topP: p.topP },
      { signal: ctx.signal, onProgress: (step, total) => ctx.progress(step, total) },
    );
    return { image: p.count > 1 ? images : images[0] };
  },
});
