import { AutoImageProcessor, AutoModel, AutoTokenizer, type PreTrainedModel, type Tensor } from '@huggingface/transformers';
import type { ImageValue } from '../image';
import type { AdapterHost } from './formats';
import { HfModel, pretrainedOptions, type HfFound } from './hf-model';
import type { CallOptions } from './model';
import { pixelValues } from './pixel-values';
import { toRawImage } from './transformers-js';

type Processors = [Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>, Awaited<ReturnType<typeof AutoImageProcessor.from_pretrained>>];

/**
 * CLIP and SigLIP (`model_type: clip | siglip`) as reward models for `reward-score`, through
 * transformers.js' CLIPModel / SiglipModel. Scores are 0..1:
 * - CLIP: the cosine similarity of the image and text embeddings, clamped at 0 (CLIPScore without
 *   its 2.5 weight);
 * - SigLIP: the sigmoid of its image-text logit, the probability SigLIP was trained to give a match.
 * Several images against one text run as one batch.
 */
export class DualEncoderScorer extends HfModel<PreTrainedModel, Processors> {
  constructor(
    found: HfFound,
    private readonly kind: 'clip' | 'siglip',
    host: AdapterHost,
  ) {
    super(found, host, async () => {
      const local = { local_files_only: true } as const;
      const [model, tokenizer, images] = await Promise.all([
        AutoModel.from_pretrained(found.dir, pretrainedOptions(found, host)),
        AutoTokenizer.from_pretrained(found.dir, local),
        AutoImageProcessor.from_pretrained(found.dir, local),
      ]);
      return { model, extra: [tokenizer, images] as Processors };
    });
  }

  scoreBatch(images: readonly ImageValue[], text: string, call: CallOptions = {}): Promise<number[]> {
    return this.job(call, async ({ model, extra: [tokenizer, imageProcessor] }) => {
      // SigLIP was trained on texts padded to the full length; CLIP masks its padding
      const textInputs = tokenizer([text], this.kind === 'siglip' ? { padding: 'max_length', truncation: true } : { padding: true, truncation: true });
      const pixel_values = await pixelValues(imageProcessor, images.map(toRawImage));
      const out = (await model({ ...textInputs, pixel_values })) as Record<string, Tensor>;
      return this.kind === 'siglip' ? sigmoids(out.logits_per_image) : cosines(out.image_embeds, out.text_embeds);
    });
  }
}

function sigmoids(logitsPerImage: Tensor): number[] {
  return Array.from(logitsPerImage.data as Float32Array, (x) => 1 / (1 + Math.exp(-x)));
}

/** Cosine of each image embedding with the (one) text embedding, clamped to 0..1. */
function cosines(imageEmbeds: Tensor, textEmbeds: Tensor): number[] {
  const [n, d] = imageEmbeds.dims;
  const img = imageEmbeds.data as Float32Array;
  const txt = textEmbeds.data as Float32Array;
  const norm = (v: Float32Array, at: number) => {
    let sum = 0;
    for (let k = at; k < at + d; k++) sum += v[k] * v[k];
    return Math.sqrt(sum);
  };
  const tn = norm(txt, 0);
  return Array.from({ length: n }, (_, i) => {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += img[i * d + k] * txt[k];
    return Math.min(1, Math.max(0, dot / (norm(img, i * d) * tn)));
  });
}
