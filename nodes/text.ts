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
    const { a, b, c } = inputs as Record<string, string | undefined>;
    if (params.mode === 'join') return { text: joinTo(joinTo(joinTo('', a, params.separator), b, params.separator), c, params.separator) };
    const parts: Record<string, string | undefined> = { a, b, c };
    return { text: params.template.replace(/\{([abc])\}/g, (_whole, name: string) => parts[name] ?? '') };
  },
});

/** `text` with `part` joined on after `separator`; an empty or missing part is skipped (no array of the parts: one per run showed in allocation profiles of large workflows). */
function joinTo(text: string, part: string | undefined, separator: string): string {
  if (part === undefined || part === '') return text;
  return text === '' ? part : text + separator + part;
}
