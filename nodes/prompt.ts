import { z } from 'zod';
import { defineNode } from '../engine/node';

export default defineNode({
  type: 'prompt',
  category: 'text',
  description: 'A text prompt. Give it a name to make it a run input that HTTP triggers can set; {variables} are filled from run inputs.',
  inputs: {},
  outputs: { text: { type: 'text' } },
  params: z.object({
    name: z.string().max(64).regex(/^[A-Za-z_][\w-]*$|^$/, 'use letters, digits, _ and -').default('').describe('run input name'),
    text: z.string().max(10_000).default('').describe('the prompt; {variable} placeholders are filled from run inputs'),
  }),
  namedInput: { nameParam: 'name', valueParam: 'text', template: true },
  run: (_inputs, params) => ({ text: params.text }),
});
