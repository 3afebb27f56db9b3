import { AutoImageProcessor, AutoModel, AutoTokenizer, type PreTrainedModel, type Tensor } from '@huggingface/transformers';
import type { ImageValue } from '../image';
import { cannot, type AdapterHost, type FoundModel } from './formats';
import type { CallOptions, CallStats, ImageModel } from './model';
import type { Loader } from './sessions';
import { hfDevice, hfLoader, RunClock, toRawImage, type GraphIo } from './transformers-js';

/** The combined graph of Xenova's CLIP / SigLIP exports (`onnx/model.onnx`) and the I/O this adapter uses. */
export function dualEncoderGraphs(kind: 'clip' | 'siglip'): Record<string, GraphIo> {
  const inputs = kind === 'clip' ? ['input_ids', 'pixel_values', 'attention_mask'] : ['input_ids', 'pixel_values'];
  return { model: { inputs, outputs: ['logits_per_image', 'text_embeds', 'image_embeds'] } };
}

type Processors = [Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>, Awaited<ReturnType<typeof AutoImageProcessor.from_pretrained>>];

interface Loaded {
  model: PreTrainedModel;
  extra: Processors;
}

/**
 * CLIP and SigLIP (`model_type: clip | siglip`) as reward models for `reward-score`, through
 * transformers.js' CLIPModel / SiglipModel. Scores are 0..1:
 * - CLIP: the cosine similarity of the image and text embeddings, clamped at 0 (CLIPScore without
 *   its 2.5 weight);
 * - SigLIP: the sigmoid of its image-text logit, the probability SigLIP was trained to give a match.
 * Several images against one text run as one batch.
 */
export class DualEncoderScorer implements ImageModel {
  readonly name: string;
  readonly tasks: FoundModel['tasks'];
  readonly size: { width: number; height: number };
  private readonly loader: Loader<Loaded>;
  private readonly clock = new RunClock();
  lastStats: CallStats = { wallMs: 0, runMs: 0, runs: 0 };

  constructor(
    found: FoundModel & { dtype: string; imageSize: number; files: readonly string[] },
    private readonly kind: 'clip' | 'siglip',
    private readonly host: AdapterHost,
  ) {
    this.name = found.name;
    this.tasks = found.tasks;
    this.size = { width: found.imageSize, height: found.imageSize };
    const sessions = host.sessions;
    this.loader = hfLoader({
      name: found.name,
      dir: found.dir,
      files: found.files,
      sessions,
      clock: this.clock,
      inspect: () => found.inspect(host),
      load: async () => {
        const options = { local_files_only: true } as const;
        const [model, tokenizer, images] = await Promise.all([
          AutoModel.from_pretrained(found.dir, {
            ...options,
            dtype: found.dtype as 'fp32',
            device: hfDevice(sessions),
            session_options: sessions.sessionOptions(),
          }),
          AutoTokenizer.from_pretrained(found.dir, options),
          AutoImageProcessor.from_pretrained(found.dir, options),
        ]);
        return { model, extra: [tokenizer, images] as Processors };
      },
    });
  }

  generate(): Promise<ImageValue[]> {
    return Promise.reject(cannot(this, 'generate'));
  }

  edit(): Promise<ImageValue[]> {
    return Promise.reject(cannot(this, 'edit'));
  }

  caption(): Promise<string> {
    return Promise.reject(cannot(this, 'caption'));
  }

  score(image: ImageValue, text: string, call: CallOptions = {}): Promise<number> {
    return this.scoreBatch([image], text, call).then(([s]) => s);
  }

  scoreBatch(images: readonly ImageValue[], text: string, call: CallOptions = {}): Promise<number[]> {
    const work = () =>
      this.host.sessions.use(
        this.loader,
        async ({ model, extra: [tokenizer, imageProcessor] }) => {
          this.clock.reset();
          try {
            // SigLIP was trained on texts padded to the full length; CLIP masks its padding
            const textInputs = tokenizer([text], this.kind === 'siglip' ? { padding: 'max_length', truncation: true } : { padding: true, truncation: true });
            const { pixel_values } = await imageProcessor(images.map(toRawImage));
            const out = (await model({ ...textInputs, pixel_values })) as Record<string, Tensor>;
            return this.kind === 'siglip' ? sigmoids(out.logits_per_image) : cosines(out.image_embeds, out.text_embeds);
          } finally {
            this.lastStats = this.clock.stats();
          }
        },
        call.onProgress,
      );
    return this.host.queue.run(work, call.signal);
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
  const norm = (v: Float32Array, at: number) => Math.hypot(...v.subarray(at, at + d));
  const tn = norm(txt, 0);
  return Array.from({ length: n }, (_, i) => {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += img[i * d + k] * txt[k];
    return Math.min(1, Math.max(0, dot / (norm(img, i * d) * tn)));
  });
}
