// A hook answered with an image instead of JSON: the output an `Accept: image/...` call asks for,
// decided before the run, and its bytes in the asked-for type.

import sharp from 'sharp';
import type { ArtifactStore } from '../artifacts';
import { HttpError } from '../http-error';
import { isImageRef } from '../json-values';
import type { RunRecord } from '../store/runs';
import type { TriggerOutput } from './contract';

/** The media types a hook can answer with; the first is the default (JSON). */
export const ANSWER_TYPES = ['application/json', 'image/png', 'image/webp', 'image/jpeg'] as const;
export type ImageType = Exclude<(typeof ANSWER_TYPES)[number], 'application/json'>;

/**
 * The image output a call asks for with `Accept: image/...` (and `?output=<name>` when there are
 * several). Decided before the run is queued, so a call that cannot be answered costs no run: an
 * output that is not a single image is a 406 naming it and its type.
 */
export function imageOutputFor(outputs: TriggerOutput[], requested: string | undefined): TriggerOutput {
  const described = outputs.map((o) => `${o.name} (${o.type})`).join(', ') || 'none';
  if (requested !== undefined) {
    const output = outputs.find((o) => o.name === requested);
    if (!output) throw new HttpError(404, `?output=${requested} names no output of this trigger (outputs: ${described})`);
    if (output.type !== 'image') throw new HttpError(406, `output '${requested}' is ${output.type}, not an image: ask for JSON (Accept: application/json)`);
    return output;
  }
  const images = outputs.filter((o) => o.type === 'image');
  if (images.length === 1) return images[0];
  if (images.length === 0) throw new HttpError(406, `this trigger has no image output to answer with (outputs: ${described})`);
  throw new HttpError(400, `this trigger has several image outputs (${images.map((o) => o.name).join(', ')}): pick one with ?output=<name>`);
}

/** The bytes of a finished run's image output, in the asked-for type (PNG as stored, others through sharp). */
export async function imageBytes(run: RunRecord, output: string, type: ImageType, artifacts: ArtifactStore): Promise<Buffer> {
  const value = run.outputs[output]?.value;
  if (!isImageRef(value)) throw new HttpError(500, `run ${run.id} finished without an image in output '${output}'`);
  const png = Buffer.from(await artifacts.read(value.artifact));
  if (type === 'image/png') return png;
  const image = sharp(png);
  return type === 'image/webp' ? image.webp({ lossless: true }).toBuffer() : image.jpeg({ quality: 95 }).toBuffer();
}
