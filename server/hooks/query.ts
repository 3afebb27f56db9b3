// The query string of a hook call: how the caller wants its answer (sync or async, which image
// output, inline images, a callback URL).

import { parse as parseQueryString } from 'node:querystring';
import { z } from 'zod';
import { HttpError, parseRequest } from '../http-error';

/** How one call wants its answer; the trigger's mode is the default. */
export const hookQuery = z.object({
  mode: z.enum(['sync', 'async']).optional().describe("overrides the trigger's mode for this call"),
  output: z.string().optional().describe('the image output to answer with, as raw bytes (with Accept: image/png, image/webp or image/jpeg)'),
  inline: z.enum(['0', '1', 'true', 'false']).optional().describe('1: image outputs carry their PNG as base64'),
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('makes the call async: the finished run is POSTed here, signed (Picflow-Signature), retried with backoff; its host must resolve to public addresses'),
});

export type HookQuery = z.output<typeof hookQuery>;

const KNOWN = Object.keys(hookQuery.shape);

/** The known parameter a misspelt one stands for, by case alone (`callbackurl`). */
function spelledAs(key: string): string | undefined {
  return KNOWN.find((known) => known.toLowerCase() === key.toLowerCase());
}

/**
 * Parses a hook call's query string. A parameter it does not know is refused, naming it and the known
 * ones: ignored, a misspelt `callbackurl` ran the call sync and posted nothing, and the caller never knew.
 */
export function parseHookQuery(search: string): HookQuery {
  // querystring's result has no prototype; a plain copy for zod.
  const raw: Record<string, unknown> = { ...parseQueryString(search) };
  const unknown = Object.keys(raw).filter((key) => !KNOWN.includes(key));
  if (unknown.length > 0) {
    const issues = unknown.map((key) => {
      const meant = spelledAs(key);
      return { node: null, field: `query.${key}`, message: `unknown query parameter '${key}'${meant ? ` (did you mean '${meant}'?)` : ''}` };
    });
    const named = unknown.map((key) => `'${key}'`).join(', ');
    throw new HttpError(400, `unknown query parameter${unknown.length === 1 ? '' : 's'} ${named}; a hook takes ${KNOWN.join(', ')}`, issues);
  }
  return parseRequest(hookQuery, raw, 'query');
}
