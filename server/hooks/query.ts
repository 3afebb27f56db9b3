// The query string of a hook call: how the caller wants its answer (sync or async, which image
// output, inline images, a callback URL).

import { z } from 'zod';

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
