// `/api/uploads` and `/api/artifacts/:id`: image uploads checked by decoding, artifacts served immutable.
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import sharp, { type Metadata } from 'sharp';
import { withWorkflow } from '../../engine/png-metadata';
import { ARTIFACT_ID, artifactUrl, type ArtifactInfo } from '../artifacts';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';
import { imageRefsIn } from '../json-values';
import type { RunRecord } from '../store/runs';

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

/** Parses a multipart upload of one image (any field name) into memory, within the server's limits. */
export function imageUpload(ctx: AppContext): RequestHandler {
  return multer({ storage: multer.memoryStorage(), limits: { fileSize: ctx.limits.uploadBytes, files: 1, fields: 8, fieldSize: 1024 } }).any();
}

/**
 * Checks the one uploaded image and stores it as an artifact. `field` names the multipart field it is read
 * from (`this-field`), or only the one errors suggest when any field will do (`any-field`).
 */
export async function storeUploadedImage(ctx: AppContext, req: Request, field: string, accept: 'this-field' | 'any-field'): Promise<ArtifactInfo> {
  const files = ((req.files ?? []) as Express.Multer.File[]).filter((file) => accept === 'any-field' || file.fieldname === field);
  if (files.length !== 1) throw new HttpError(400, `send one image as multipart/form-data (field \`${field}\`)`);
  return inspectAndStoreImage(ctx, files[0].buffer);
}

/** Checks an uploaded image's bytes and stores them as an artifact. */
export async function inspectAndStoreImage(ctx: AppContext, bytes: Buffer): Promise<ArtifactInfo> {
  const { contentType, width, height } = await inspectImage(bytes, ctx.limits.uploadPixels);
  return ctx.artifacts.put(bytes, { contentType, width, height, source: 'upload' });
}

/**
 * Sends an artifact's bytes with its content type; the content of an id never changes, so it is cached
 * for good (`private`: by the browser only, for what took credentials). With `run`, a PNG goes out carrying that run's workflow and inputs in its iTXt chunks
 * (stored artifacts stay content-addressed: the same pixels from two runs are one file).
 */
export async function sendArtifact(ctx: AppContext, id: string, req: Request, res: Response, run?: RunRecord, cache: 'public' | 'private' = 'public'): Promise<void> {
  const info = await ctx.artifacts.info(id);
  if (!info) throw new HttpError(404, `no artifact '${id}'`);
  const etag = run ? `"${info.id}.${run.id}"` : `"${info.id}"`;
  res.set({ ETag: etag, 'Cache-Control': `${cache}, max-age=31536000, immutable` });
  if (req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  if (run && info.contentType === 'image/png') {
    res.type('image/png').send(Buffer.from(await withWorkflow(await ctx.artifacts.read(info.id), { workflow: run.workflow, inputs: run.inputs })));
    return;
  }
  res.set({ 'Content-Type': info.contentType, 'Content-Length': String(info.bytes) });
  await pipeline(ctx.artifacts.stream(info), res);
}

/** Whether `run` made artifact `id`: one of its outputs, or of its nodes' outputs (what the editor shows on a node). */
function madeBy(run: RunRecord, id: string): boolean {
  const values = [...Object.values(run.outputs).map((output) => output.value), ...Object.values(run.nodes).flatMap((node) => Object.values(node.outputs ?? {}))];
  return imageRefsIn(values).some((image) => image.artifact === id);
}

/**
 * The run whose workflow `GET /api/artifacts/:id?run=<runId>` embeds: only one that made the image (a 404
 * otherwise), or the PNG would claim a workflow that did not make it, and `picflow run image.png` would run that.
 */
async function embeddedRun(ctx: AppContext, id: string, runId: string): Promise<RunRecord> {
  const run = await ctx.manager.get(runId);
  if (!run) throw new HttpError(404, `no run '${runId}' (query parameter \`run\`)`);
  if (!madeBy(run, id)) throw new HttpError(404, `run '${runId}' did not make artifact '${id}'; leave out \`run\` for the image without a workflow`);
  return run;
}

/** Images in (`POST /api/uploads`) and out (`GET /api/artifacts/:id`; `?run=<id>`: the PNG carrying the workflow of the run that made it). */
export function artifactRoutes(ctx: AppContext): Router {
  const router = Router();

  // Any field name: one file per request (the editor sends `file`).
  router.post('/api/uploads', imageUpload(ctx), async (req, res) => {
    const info = await storeUploadedImage(ctx, req, 'file', 'any-field');
    const { width, height, contentType } = info;
    res.status(201).json({ artifact: info.id, url: artifactUrl(info.id), width, height, contentType, bytes: info.bytes });
  });

  router.get('/api/artifacts/:id', async (req, res) => {
    const { id } = req.params;
    if (!ARTIFACT_ID.test(id)) throw new HttpError(400, 'an artifact id is 64 lowercase hex digits (its sha256)');
    const runId = typeof req.query.run === 'string' ? req.query.run : undefined;
    await sendArtifact(ctx, id, req, res, runId === undefined ? undefined : await embeddedRun(ctx, id, runId));
  });

  return router;
}
