import { RawImage, Tensor, type ImageProcessor } from '@huggingface/transformers';
import sharp from 'sharp';

/** The interpolators transformers.js' RawImage.resize hands to sharp's affine, by PIL resampling code. */
const AFFINE_INTERPOLATORS = new Map([
  [0, 'nearest'],
  [2, 'bilinear'],
  [3, 'bicubic'],
] as const);

/** An RGB image and the window of it that becomes the model's input (the centre crop, when it lies inside). */
interface Window {
  data: ArrayLike<number>;
  /** Row length of `data` in pixels. */
  stride: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * A batch's `pixel_values` exactly as transformers.js' ImageProcessor makes them for CLIP- and
 * SigLIP-style processors (preprocessor_config.json: RGB, resize, centre crop, rescale, normalise),
 * with less work around the same steps:
 * - the resize is the sharp affine call RawImage.resize makes (same size from the processor's own
 *   `get_resize_output_image_size`, same interpolator), without the metadata pass it adds;
 * - a centre crop inside the image is a window read by the next pass rather than a second sharp call;
 * - the float32 copy, rescale, normalise, HWC → CHW permute and stack — four passes, an index
 *   computation per value and a copy per image in transformers.js — are one loop writing the batch
 *   tensor, with the processor's constants and the same float32 roundings: `fround(rescale · p)`,
 *   then `(x − mean[c]) / std[c]` stored as float32.
 * A processor with steps this path lacks (padding, channel flip, margin crop, thumbnail) gets its
 * own preprocessing.
 */
export async function pixelValues(processor: ImageProcessor, images: readonly RawImage[]): Promise<Tensor> {
  if (processor.do_pad || processor.do_flip_channel_order || processor.do_crop_margin || processor.do_thumbnail) {
    return (await processor([...images])).pixel_values as Tensor;
  }
  const windows = await Promise.all(images.map((image) => window(processor, image)));
  const { width, height } = windows[0];
  const odd = windows.find((w) => w.width !== width || w.height !== height);
  if (odd) throw new Error(`images preprocess to different sizes (${width}×${height}, ${odd.width}×${odd.height}): they cannot share a batch`);
  const plane = width * height;
  const out = new Float32Array(windows.length * 3 * plane);
  const [mean, std] = [perChannel(processor.image_mean, 'image_mean'), perChannel(processor.image_std, 'image_std')];
  const rescale = processor.do_rescale ? processor.rescale_factor : 1;
  const normalize = Boolean(processor.do_normalize);
  windows.forEach(({ data, stride, left, top }, b) => {
    for (let c = 0; c < 3; c++) {
      const [m, s] = [mean[c], std[c]];
      let to = (b * 3 + c) * plane;
      for (let y = 0; y < height; y++) {
        for (let from = ((top + y) * stride + left) * 3 + c, end = from + width * 3; from < end; from += 3) {
          const x = Math.fround(rescale * data[from]);
          out[to++] = normalize ? (x - m) / s : x;
        }
      }
    }
  });
  return new Tensor('float32', out, [windows.length, 3, height, width]);
}

/** The processor's image steps in its order: RGB, resize, centre crop. */
async function window(processor: ImageProcessor, image: RawImage): Promise<Window> {
  let rgb = processor.do_convert_rgb ? image.rgb() : image;
  if (rgb.channels !== 3) throw new Error(`the image has ${rgb.channels} channels; the processor takes RGB`);
  if (processor.do_resize) rgb = await resize(processor, rgb);
  const whole = { data: rgb.data, stride: rgb.width, left: 0, top: 0, width: rgb.width, height: rgb.height };
  if (!processor.do_center_crop) return whole;
  const crop = processor.crop_size as number | { width: number; height: number };
  const [width, height] = typeof crop === 'number' ? [crop, crop] : [crop.width, crop.height];
  if (width > rgb.width || height > rgb.height) {
    // a crop larger than the image pads it: the processor's own step
    const padded = await rgb.center_crop(width, height);
    return { ...whole, data: padded.data, stride: width, width, height };
  }
  return { ...whole, left: Math.floor((rgb.width - width) / 2), top: Math.floor((rgb.height - height) / 2), width, height };
}

async function resize(processor: ImageProcessor, image: RawImage): Promise<RawImage> {
  const [width, height] = processor.get_resize_output_image_size(image, processor.size);
  const interpolator = AFFINE_INTERPOLATORS.get(processor.resample as 0 | 2 | 3);
  if (width === image.width && height === image.height) return image;
  if (!interpolator) return processor.resize(image); // lanczos and the rest: its own call
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .affine([width / image.width, 0, 0, height / image.height], { interpolator })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new RawImage(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height, 3);
}

function perChannel(value: number | number[], field: string): number[] {
  const values = Array.isArray(value) ? value : [value, value, value];
  if (values.length !== 3) throw new Error(`preprocessor_config.json: ${field} has ${values.length} values for 3 channels`);
  return values;
}
