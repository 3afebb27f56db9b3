import type { default as Sharp } from 'sharp';
import type { ImageBudget } from './budget';

// sharp (a native module) loads on first use, so hosts that never touch pixels (`picflow validate`, a text-only
// run) do not pay for it at start-up.
let sharpModule: Promise<typeof Sharp> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp').then((m) => m.default));

/** An image in memory: raw interleaved 8-bit pixels. PNG exists only at the edges (files, HTTP). */
export interface ImageValue {
  readonly kind: 'image';
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly data: Uint8Array;
}

export function isImage(value: unknown): value is ImageValue {
  return typeof value === 'object' && value !== null && (value as ImageValue).kind === 'image';
}

export function makeImage(width: number, height: number, channels: 3 | 4, data: Uint8Array): ImageValue {
  if (data.length !== width * height * channels) {
    throw new Error(`image data has ${data.length} bytes, expected ${width}×${height}×${channels}`);
  }
  return { kind: 'image', width, height, channels, data };
}

/**
 * Decodes any format sharp reads (PNG, JPEG, WebP, …); throws a plain message for non-images. With a
 * budget, the size in the header is reserved before any pixel is decoded, so a huge image costs nothing.
 */
export async function decodeImage(bytes: Uint8Array, budget?: ImageBudget): Promise<ImageValue> {
  const sharp = await loadSharp();
  let result;
  if (budget) {
    // Only the header is read: no pixel limit is needed here, the budget is the limit.
    const { width, height } = await sharp(bytes, { limitInputPixels: false })
      .metadata()
      .catch((err: Error) => {
        throw new Error(`not a readable image (${err.message})`);
      });
    budget.reserve(width ?? 0, height ?? 0);
  }
  try {
    result = await sharp(bytes, { limitInputPixels: budget?.maxPixels ?? true }).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new Error(`not a readable image (${(err as Error).message})`);
  }
  const { data, info } = result;
  if (info.channels === 3 || info.channels === 4) {
    return makeImage(info.width, info.height, info.channels, new Uint8Array(data.buffer, data.byteOffset, data.length));
  }
  // Grey or grey+alpha: widen to RGB so every consumer sees 3 or 4 channels.
  const rgb = await sharp(bytes).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return makeImage(rgb.info.width, rgb.info.height, 3, new Uint8Array(rgb.data));
}

export async function encodePng(image: ImageValue): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png()
    .toBuffer();
}

export type ResizeKernel = 'nearest' | 'lanczos3';
export type ResizeFit = 'fill' | 'contain' | 'cover';

export async function resizeImage(
  image: ImageValue,
  width: number,
  height: number,
  options: { kernel?: ResizeKernel; fit?: ResizeFit } = {},
): Promise<ImageValue> {
  if (image.width === width && image.height === height) return image;
  const sharp = await loadSharp();
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .resize(width, height, { kernel: options.kernel ?? 'nearest', fit: options.fit ?? 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return makeImage(info.width, info.height, info.channels as 3 | 4, new Uint8Array(data));
}
