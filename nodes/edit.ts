import { isImage } from '../engine/image';
import { defineNode } from '../engine/node';
import { modelFor } from '../engine/runtime';
import { modelCheck } from './model-check';
import { samplingParams } from './params';

export default defineNode({
  type: 'edit',
  category: 'model',
  description: 'Edits an image by an instruction (e.g. "make the background yellow") with a unified model.',
  inputs: { image: { type: 'image' }, instruction: { type: 'text' } },
  outputs: { image: { type: 'image', description: 'a list (image[]) when count > 1' } },
  params: samplingParams('edit'),
  check: modelCheck('edit', ['instruction']),
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
