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
    if (params.mode === 'join') return { text: joined([inputs.a, inputs.b, inputs.c] as (string | undefined)[], params.separator) };
    const parts = { a: inputs.a, b: inputs.b, c: inputs.c } as Record<string, string | undefined>;
    return { text: params.template.replace(/\{([abc])\}/g, (_whole, name: string) => parts[name] ?? '') };
  },
});

/** The non-empty texts joined with `separator`, without a filtered copy of them. */
function joined(texts: (string | undefined)[], separator: string): string {
  let text = '';
  for (const part of texts) if (part !== undefined && part !== '') text = text === '' ? part : text + separator + part;
  return text;
}
