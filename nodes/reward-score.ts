import { z } from 'zod';
import { isImage, type ImageValue } from '../engine/image';
import { defineNode } from '../engine/node';
import { modelFor } from '../engine/runtime';
import { modelCheck } from './model-check';
import { modelParam } from './params';

export default defineNode({
  type: 'reward-score',
  category: 'model',
  description:
    'How well a text describes an image, 0..1 (higher is better): the likelihood the model gives the text for the image. A list of images is scored against the text in one batch.',
  inputs: { image: { type: 'image', batched: true }, text: { type: 'text' } },
  outputs: { score: { type: 'number', description: 'a list (number[]) when fed a list of images' } },
  params: z.object({ model: modelParam('score') }),
  check: modelCheck('score', ['text']),
  run: async (inputs, p, ctx) => {
    const list = Array.isArray(inputs.image);
    const images = (list ? inputs.image : [inputs.image]) as unknown[];
    images.forEach((image, i) => {
      if (!isImage(image)) throw new Error(list ? `input image: item ${i} is not an image` : 'input image is not an image');
    });
    const model = await modelFor(ctx.services, p.model, 'score');
    if (images.length === 0) return { score: [] };
    const scores = await model.scoreBatch(images as ImageValue[], inputs.text as string, { signal: ctx.signal });
    return { score: list ? scores : scores[0] };
  },
});
