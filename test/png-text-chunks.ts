// Reads a PNG's iTXt chunks with a plain chunk reader and zlib, independent of picflow's own
// engine/png-metadata.ts, so a test checks what any PNG tool would see.

import { inflateSync } from 'node:zlib';
import extractChunks from 'png-chunks-extract';

/** The iTXt chunks of a PNG, text by keyword. */
export function textChunks(bytes: Uint8Array): Record<string, string> {
  const entries = extractChunks(bytes)
    .filter((c) => c.name === 'iTXt')
    .map((c) => {
      const data = Buffer.from(c.data);
      const keyEnd = data.indexOf(0);
      const langEnd = data.indexOf(0, keyEnd + 3);
      const body = data.subarray(data.indexOf(0, langEnd + 1) + 1);
      return [data.subarray(0, keyEnd).toString('latin1'), (data[keyEnd + 1] === 1 ? inflateSync(body) : body).toString('utf8')];
    });
  return Object.fromEntries(entries);
}
