import { defineNode } from '../engine/node';
import { modelFor } from '../engine/runtime';
import { modelCheck } from './model-check';
import { samplingParams } from './params';

export default defineNode({
  type: 'generate',
  category: 'model',
  description: 'Generates images from a text prompt with a unified model (classifier-free guidance, seeded sampling).',
  inputs: {
    prompt: { type: 'text' },
    negative: { type: 'text', optional: true, description: 'steers away from this text (replaces the empty prompt of guidance)' },
  },
  outputs: { image: { type: 'image', description: 'a list (image[]) when count > 1' } },
  params: samplingParams('generate'),
  check: modelCheck('generate', ['prompt', 'negative']),
  outputTypes: (p) => (p.count > 1 ? { image: 'image[]' } : {}),
  run: async (inputs, p, ctx) => {
    const model = await modelFor(ctx.services, p.model, 'generate');
    const images = await model.generate(
      inputs.prompt as string,
      { seed: p.seed, count: p.count, cfg: p.cfg, temperature: p.temperature, topK: p.topK, topP: p.topP, negative: inputs.negative as string | undefined },
      { signal: ctx.signal, onProgress: (step, total) => ctx.progress(step, total) },
    );
    return { image: p.count > 1 ? images : images[0] };
  },
});
