import { z } from 'zod';
import { defineNode } from '../engine/node';

const optionalText = { type: 'text', optional: true } as const;

export default defineNode({
  type: 'text',
  category: 'text',
  description: 'Joins texts a, b, c with a separator, or fills a template that names them as {a}, {b}, {c}.',
  inputs: { a: optionalText, b: optionalText, c: optionalText },
  outputs: { text: { type: 'text' } },
  params: z.object({
    mode: z.enum(['join', 'template']).default('join'),
    separator: z.string().max(100).default(' '),
    template: z.string().max(10_000).default('{a} {b}').describe('used in template mode'),
  }),
  run: (inputs, params) => {
    const parts = { a: inputs.a, b: inputs.b, c: inputs.c } as Record<string, string | undefined>;
    if (params.mode === 'join') {
      return { text: Object.values(parts).filter((p): p is string => p !== undefined && p !== '').join(params.separator) };
    }
    return { text: params.template.replace(/\{([abc])\}/g, (_whole, name: string) => parts[name] ?? '') };
  },
});
