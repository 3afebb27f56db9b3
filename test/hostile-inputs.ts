import { crc32, deflateSync } from 'node:zlib';

/** Names that are members of every plain object: as ids, ports, params or keys they must be ordinary names. */
export const BUILT_IN_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', '__defineGetter__'] as const;

/**
 * A PNG whose header claims `width` × `height` one-bit grey pixels, with a tiny (truncated) image body:
 * a few hundred bytes that a decoder taking the header at its word would blow up to gigabytes.
 */
export function pngHeaderClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc(64 * (1 + Math.ceil(width / 8))));
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]);
}

/** `{ p0: 0, p1: 0, … }` with `count` keys. */
export function manyParams(count: number): Record<string, number> {
  const params: Record<string, number> = {};
  for (let i = 0; i < count; i++) params[`p${i}`] = 0;
  return params;
}

/** An array nested `depth` levels deep, as JSON text (JSON.stringify itself would overflow the stack). */
export function nestedJson(depth: number): string {
  return `${'['.repeat(depth)}0${']'.repeat(depth)}`;
}

/** An array nested `depth` levels deep. */
export function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Rejects when `promise` has not settled within `ms`: the bound only turns a hang into a failure, it times nothing. */
export function endsWithin<T>(promise: Promise<T>, ms: number, what = 'it'): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hang: ${what} did not end within ${ms} ms`)), ms).unref()),
  ]);
}
