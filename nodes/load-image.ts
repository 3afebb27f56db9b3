import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { decodeImage } from '../engine/image';
import { defineNode } from '../engine/node';
import type { Services } from '../engine/services';

const params = z
  .object({
    path: z.string().max(4096).optional().describe('image file (CLI only), relative to the workflow file'),
    artifact: z.string().max(128).optional().describe('id of an uploaded image'),
  })
  .refine((p) => (p.path === undefined) !== (p.artifact === undefined), {
    message: 'set exactly one of `path` and `artifact`',
  });

function filePath(path: string, services: Services): string {
  if (!services.allowFilePaths) {
    throw new Error('file paths are not allowed here: upload the image and set `artifact` to its id');
  }
  return resolve(services.baseDir ?? process.cwd(), path);
}

export default defineNode({
  type: 'load-image',
  category: 'image',
  description: 'Loads an image: an uploaded artifact (server) or a file path (CLI).',
  inputs: {},
  outputs: { image: { type: 'image' } },
  params,
  // A file can change under the same path; its size and mtime join the cache key. Artifacts are content-addressed.
  cacheSalt: async (p, services) => {
    if (p.path === undefined) return '';
    const info = await stat(filePath(p.path, services)).catch(() => undefined);
    return info ? `${info.size}:${info.mtimeMs}` : 'missing';
  },
  run: async (_inputs, params, ctx) => {
    const { path, artifact } = params;
    let bytes: Uint8Array;
    if (artifact !== undefined) {
      if (!ctx.services.artifacts) throw new Error('no artifact store is available here; use `path`');
      bytes = await ctx.services.artifacts.read(artifact);
    } else {
      const file = filePath(path!, ctx.services);
      bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`cannot read '${path}': ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
      });
    }
    try {
      return { image: await decodeImage(bytes, ctx.images) };
    } catch (err) {
      throw new Error(`${artifact ?? path}: ${(err as Error).message}`);
    }
  },
});
