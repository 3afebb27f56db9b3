import { join } from 'node:path';
import {
  AutoProcessor,
  BaseStreamer,
  MultiModalityCausalLM,
  random,
  Tensor,
  type Processor,
} from '@huggingface/transformers';
import type { ImageValue } from '../image';
import type { AdapterHost } from './formats';
import { HfModel, pretrainedOptions, type HfFound } from './hf-model';
import type { CallOptions, CaptionOptions, GenerateOptions } from './model';
import { samplingProcessors } from './top-p-warper';
import { fromRawImage, toRawImage } from './transformers-js';
import { useTypedGeneration } from './typed-generation';

/** Janus' own defaults for text-to-image (DeepSeek's reference: guidance 5, temperature 1, no top-k or top-p). */
const GENERATE_DEFAULTS = { cfg: 5, temperature: 1, topK: 0, topP: 1 };
const CAPTION_INSTRUCTION = 'Describe this image.';
const CAPTION_MAX_TOKENS = 64;
const USER = '<|User|>';
const IMAGE_TAG = '<image_placeholder>';

/** Calls back per generated token (transformers.js puts the prompt first) and stops generation once aborted. */
class TokenStreamer extends BaseStreamer {
  private seen = -1;

  constructor(private readonly tick: (token: number) => void, private readonly signal?: AbortSignal) {
    super();
  }

  override put(): void {
    // throwing here leaves transformers.js' loop between two tokens
    this.signal?.throwIfAborted();
    if (++this.seen > 0) this.tick(this.seen);
  }

  override end(): void {}
}

/**
 * Janus / Janus-Pro (`model_type: multi_modality`) through transformers.js' MultiModalityCausalLM:
 * text-to-image, image captioning and an image-text score. transformers.js tokenizes, applies the
 * chat templates, preprocesses and runs the generation loops; this adapter adds the shared
 * loading, the device queue, seeds, progress and cancellation.
 */
export class JanusModel extends HfModel<MultiModalityCausalLM, Processor> {
  constructor(found: HfFound, host: AdapterHost) {
    super(found, host, async () => {
      const [model, extra] = await Promise.all([
        MultiModalityCausalLM.from_pretrained(found.dir, pretrainedOptions(found, host)),
        AutoProcessor.from_pretrained(found.dir, { local_files_only: true }),
      ]);
      useTypedGeneration(model);
      assertChatTemplates(extra, found.dir);
      return { model: model as MultiModalityCausalLM, extra };
    });
  }

  override generate(prompt: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<ImageValue[]> {
    if (options.negative) throw new Error(`model '${this.name}' takes no negative prompt (its guidance uses an empty one)`);
    const count = options.count ?? 1;
    const cfg = options.cfg ?? GENERATE_DEFAULTS.cfg;
    const temperature = options.temperature ?? GENERATE_DEFAULTS.temperature;
    const topK = options.topK ?? GENERATE_DEFAULTS.topK;
    const topP = options.topP ?? GENERATE_DEFAULTS.topP;
    return this.job(call, async ({ model, extra: processor }) => {
      const inputs = await processor([{ role: USER, content: prompt }], { chat_template: 'text_to_image' });
      const tokens = (processor as unknown as { num_image_tokens: number }).num_image_tokens;
      const images: ImageValue[] = [];
      for (let i = 0; i < count; i++) {
        // image i samples from seed + i: repeatable on the same provider, each image its own stream
        random.seed((options.seed ?? 0) + i);
        const streamer = new TokenStreamer((t) => call.onProgress?.(i * tokens + t, count * tokens), call.signal);
        const [image] = await model.generate_images({
          ...inputs,
          min_new_tokens: tokens,
          max_new_tokens: tokens,
          do_sample: temperature > 0,
          temperature: temperature > 0 ? temperature : 1,
          top_k: topK,
          logits_processor: temperature > 0 ? samplingProcessors(topP, topK) : undefined,
          guidance_scale: cfg,
          streamer,
        } as unknown as Parameters<MultiModalityCausalLM['generate_images']>[0]);
        images.push(fromRawImage(image));
      }
      return images;
    });
  }

  override caption(image: ImageValue, options: CaptionOptions = {}, call: CallOptions = {}): Promise<string> {
    const maxTokens = options.maxTokens ?? CAPTION_MAX_TOKENS;
    const temperature = options.temperature ?? 0;
    return this.job(call, async ({ model, extra: processor }) => {
      const inputs = await this.understand(processor, image);
      random.seed(options.seed ?? 0);
      const streamer = new TokenStreamer((t) => call.onProgress?.(t, maxTokens), call.signal);
      const out = (await model.generate({
        ...inputs,
        max_new_tokens: maxTokens,
        do_sample: temperature > 0,
        temperature: temperature > 0 ? temperature : 1,
        streamer,
      } as unknown as Parameters<MultiModalityCausalLM['generate']>[0])) as Tensor;
      const start = (inputs.input_ids as Tensor).dims[1];
      const [text] = processor.batch_decode(out.slice(null, [start, out.dims[1]]), { skip_special_tokens: true });
      return text.trim();
    });
  }

  /**
   * How likely the model finds `text` as its answer to "Describe this image": the geometric mean of
   * the text tokens' probabilities (exp of their mean log-probability), so 0..1 and comparable
   * across texts of different lengths.
   */
  scoreBatch(images: readonly ImageValue[], text: string, call: CallOptions = {}): Promise<number[]> {
    return this.job(call, async ({ model, extra: processor }) => {
      const target = processor.tokenizer!.encode(text, { add_special_tokens: false });
      if (target.length === 0) throw new Error('the text to score is empty');
      const scores: number[] = [];
      for (const image of images) {
        call.signal?.throwIfAborted();
        const inputs = await this.understand(processor, image);
        const fed = appendTokens(inputs, target);
        (model as unknown as { _generation_mode: string })._generation_mode = 'text';
        const { logits } = (await model.forward(fed)) as { logits: Tensor };
        scores.push(meanProbability(logits, (inputs.input_ids as Tensor).dims[1], target));
      }
      return scores;
    });
  }

  /** The understanding prompt for one image: the chat template with the image in the user turn. */
  private async understand(processor: Processor, image: ImageValue): Promise<Record<string, Tensor>> {
    const conversation = [{ role: USER, content: `${IMAGE_TAG}\n${CAPTION_INSTRUCTION}` }];
    return (await processor(conversation, { images: [toRawImage(image)] })) as Record<string, Tensor>;
  }
}

/** The chat templates Janus exports name in tokenizer_config.json: understanding ('default') and generation. */
const CHAT_TEMPLATES = ['default', 'text_to_image'];

/**
 * A tokenizer_config.json without the named chat templates loads, and then every call fails in transformers.js
 * with words that name no file ("Number of images provided (1) does not match …"): say which file lacks what.
 */
function assertChatTemplates(processor: Processor, dir: string): void {
  const templates: unknown = (processor.tokenizer as { chat_template?: unknown } | undefined)?.chat_template;
  if (typeof templates === 'string') return; // one template serves every name
  const named = typeof templates === 'object' && templates !== null ? templates : {};
  const missing = CHAT_TEMPLATES.filter((name) => !Object.hasOwn(named, name));
  if (missing.length === 0) return;
  const list = missing.map((name) => `'${name}'`).join(' and ');
  throw new Error(`${join(dir, 'tokenizer_config.json')} has no chat template named ${list} (Janus exports carry ${CHAT_TEMPLATES.map((n) => `'${n}'`).join(' and ')}): copy tokenizer_config.json from the model's hub repo`);
}

/** The prompt's tensors with `tokens` appended as text (attended, not image positions). */
function appendTokens(inputs: Record<string, Tensor>, tokens: readonly number[]): Record<string, Tensor> {
  const ids = inputs.input_ids;
  const n = ids.dims[1] + tokens.length;
  const grow = (t: Tensor, type: 'int64' | 'bool', fill: bigint | boolean) => {
    const data = type === 'int64' ? new BigInt64Array(n) : new Uint8Array(n);
    data.set(t.data as never);
    data.fill(fill as never, t.dims[1]);
    return new Tensor(type, data, [1, n]);
  };
  const inputIds = grow(ids, 'int64', 0n);
  (inputIds.data as BigInt64Array).set(tokens.map(BigInt), ids.dims[1]);
  return {
    ...inputs,
    input_ids: inputIds,
    attention_mask: grow(inputs.attention_mask, 'int64', 1n),
    images_seq_mask: grow(inputs.images_seq_mask, 'bool', false),
  };
}

/** exp(mean log p(token)) over `targets`, which follow a prompt of `promptLength` tokens. */
function meanProbability(logits: Tensor, promptLength: number, targets: readonly number[]): number {
  const vocab = logits.dims[2];
  const data = logits.data as Float32Array;
  let sum = 0;
  targets.forEach((token, i) => {
    const at = (promptLength - 1 + i) * vocab; // logits at t predict token t + 1
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, data[at + v]);
    let total = 0;
    for (let v = 0; v < vocab; v++) total += Math.exp(data[at + v] - max);
    sum += data[at + token] - max - Math.log(total);
  });
  return Math.exp(sum / targets.length);
}
