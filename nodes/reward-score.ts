import { z } from 'zod';
import { isImage } from '../engine/image';
import { defineNode } from '../engine/node';
import { modelFor } from '../engine/runtime';
import { modelCheck } from './model-check';
import { modelParam } from './params';

export default defineNode({
  type: 'reward-score',
  category: 'model',
  description: 'How well a text describes an image, 0..1 (higher is better): the likelihood the model gives the text for the image.',
  inputs: { image: { type: 'image' }, text: { type: 'text' } },
  outputs: { score: { type: 'number' } },
  params: z.object({ model: modelParam('score') }),
  check: modelCheck('score', ['text']),
  run: async (inputs, p, ctx) => {
    if (!isImage(inputs.image)) throw new Error('input image is not an image');
    const model = await modelFor(ctx.services, p.model, 'score');
    return { score: await model.score(inputs.image, inputs.text as string, { signal: ctx.signal }) };
  },
});
