import { z } from 'zod';
import { resizeImage, type ImageValue } from '../engine/image';
import { defineNode } from '../engine/node';

export default defineNode({
  type: 'resize',
  category: 'image',
  description: 'Resizes an image; nearest keeps hard edges (pixel art, model outputs), lanczos3 is smooth.',
  inputs: { image: { type: 'image' } },
  outputs: { image: { type: 'image' } },
  params: z.object({
    width: z.int().min(1).max(4096).default(256),
    height: z.int().min(1).max(4096).default(256),
    fit: z.enum(['fill', 'contain', 'cover']).default('fill'),
    kernel: z.enum(['nearest', 'lanczos3']).default('nearest'),
  }),
  run: async (inputs, params, ctx) => {
    // The new image's memory is claimed before sharp allocates it.
    ctx.images.reserve(params.width, params.height);
    return { image: await resizeImage(inputs.image as ImageValue, params.width, params.height, params) };
  },
});
