import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import multer from 'multer';
import sharp, { type Metadata } from 'sharp';
import { ARTIFACT_ID, artifactUrl } from '../artifacts';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';

/** Formats kept as uploaded; anything else sharp reads (SVG, say) is refused rather than served back. */
const CONTENT_TYPES: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Decodes the whole image, so a truncated or forged file is refused here, not in a run. */
async function inspectImage(bytes: Buffer, maxPixels: number): Promise<{ contentType: string; width: number; height: number }> {
  let meta: Metadata;
  try {
    // The header alone: sharp's own pixel limit would make a huge image look like no image (415, not 413).
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new HttpError(415, 'the upload is not an image (png, jpeg or webp)');
  }
  const contentType = meta.format && CONTENT_TYPES[meta.format];
  if (!contentType) throw new HttpError(415, `unsupported image format '${meta.format}'; upload png, jpeg or webp`);
  const { width = 0, height = 0 } = meta;
  if (width * height > maxPixels) throw new HttpError(413, `the image is ${width}×${height}; at most ${maxPixels} pixels are accepted`);
  try {
    await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' }).stats();
  } catch (err) {
    throw new HttpError(415, `the image cannot be decoded: ${(err as Error).message}`);
  }
  return { contentType, width, height };
}

/** Images in (`POST /api/uploads`) and out (`GET /api/artifacts/:id`). */
export function artifactRoutes(ctx: AppContext): Router {
  const router = Router();
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: ctx.limits.uploadBytes, files: 1, fields: 8, fieldSize: 1024 } });

  // Any field name: one file per request (the editor sends `file`).
  router.post('/api/uploads', upload.any(), async (req, res) => {
    const files = (req.files ?? []) as Express.Multer.File[];
    if (files.length !== 1) throw new HttpError(400, 'send one image as multipart/form-data (field `file`)');
    const { contentType, width, height } = await inspectImage(files[0].buffer, ctx.limits.uploadPixels);
    const info = await ctx.artifacts.put(files[0].buffer, { contentType, width, height, source: 'upload' });
    res.status(201).json({ artifact: info.id, url: artifactUrl(info.id), width, height, contentType, bytes: info.bytes });
  });

  router.get('/api/artifacts/:id', async (req, res) => {
    const { id } = req.params;
    if (!ARTIFACT_ID.test(id)) throw new HttpError(400, 'an artifact id is 64 lowercase hex digits (its sha256)');
    const info = await ctx.artifacts.info(id);
    if (!info) throw new HttpError(404, `no artifact '${id}'`);
    const etag = `"${info.id}"`;
    // The content of an id never changes: cache for good, revalidate for free.
    res.set({ ETag: etag, 'Cache-Control': 'public, max-age=31536000, immutable' });
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.set({ 'Content-Type': info.contentType, 'Content-Length': String(info.bytes) });
    await pipeline(ctx.artifacts.stream(info), res);
  });

  return router;
}
