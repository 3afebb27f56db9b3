import {
  ClassifierFreeGuidanceLogitsProcessor,
  LogitsProcessor,
  LogitsProcessorList,
  random,
  Tensor,
  type PreTrainedModel,
} from '@huggingface/transformers';

/**
 * transformers.js' generation loop with two of its per-token steps swapped for equivalent ones on
 * typed arrays. Left as they are, they cost more than the model's own graphs on a small export:
 * - `ClassifierFreeGuidanceLogitsProcessor` reads the logits element by element through the
 *   Tensor's Proxy (three trapped reads per vocabulary entry);
 * - the multinomial sampler sorts the whole vocabulary with an ONNX TopK session and takes a
 *   softmax through `Float32Array.map` callbacks.
 * The replacements do the same arithmetic in the same order (float32 where transformers.js stores
 * float32, the same sums, the same draw from its seeded `random`), so a seed gives the same tokens.
 */

/** Classifier-free guidance as transformers.js defines it: `uncond + (cond - uncond) * scale`, on the typed array. */
export class TypedGuidance extends LogitsProcessor {
  constructor(private readonly scale: number) {
    super();
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    const rows = inputIds.length;
    if (logits.dims[0] !== 2 * rows) {
      throw new Error(`guidance needs twice as many logits rows as sequences (conditional, then unconditional): got ${logits.dims[0]} for ${rows}`);
    }
    const data = logits.data as Float32Array;
    const half = data.length / 2;
    const out = data.slice(half); // the unconditional rows, guided in place
    for (let i = 0; i < half; i++) out[i] += (data[i] - out[i]) * this.scale;
    return new Tensor('float32', out, [rows, ...logits.dims.slice(1)]);
  }
}

/**
 * transformers.js' multinomial sampler as the last logits processor: per row, the top `topK` tokens
 * (all when 0) in TopK's order (descending, ties by lower id), their float32 softmax, and one draw
 * from transformers.js' `random` over the running sum. It leaves the drawn token the row's only
 * finite logit, so the greedy sampler that then runs takes it.
 */
export class TypedMultinomial extends LogitsProcessor {
  private order = new Uint32Array(0);
  private scratch = new Uint32Array(0);
  private keys = new Uint32Array(0);
  private keyScratch = new Uint32Array(0);
  private weights = new Float32Array(0);
  private readonly counts = new Uint32Array(2048);

  constructor(private readonly topK: number) {
    super();
  }

  override _call(_inputIds: bigint[][], logits: Tensor): Tensor {
    const vocab = logits.dims.at(-1)!;
    const data = logits.data as Float32Array;
    for (let at = 0; at < data.length; at += vocab) {
      const row = data.subarray(at, at + vocab);
      const token = this.draw(row);
      row.fill(-Infinity);
      row[token] = 0;
    }
    return logits;
  }

  private draw(row: Float32Array): number {
    const k = this.topK > 0 ? Math.min(this.topK, row.length) : row.length;
    const order = this.sortDescending(row);
    // softmax as transformers.js' `softmax` computes it: float32 exps, a float64 running sum, float32 quotients
    const w = this.weights.length >= k ? this.weights : (this.weights = new Float32Array(k));
    const max = row[order[0]];
    let sum = 0;
    for (let j = 0; j < k; j++) {
      w[j] = Math.exp(row[order[j]] - max);
      sum += w[j]; // the stored (rounded) value, as transformers.js sums it
    }
    let total = 0;
    for (let j = 0; j < k; j++) {
      w[j] /= sum;
      total += w[j];
    }
    // transformers.js' weighted pick: one draw scaled by the running sum, walked down in order
    let x = random.random() * total;
    for (let j = 0; j < k; j++) {
      x -= w[j];
      if (x < 0) return order[j];
    }
    return order[k - 1];
  }

  /**
   * Token ids by descending logit, equal logits by ascending id (ONNX TopK's order): a stable LSD
   * radix sort, 11 bits a pass, on keys that order float32 bit patterns from largest to smallest
   * (a pass whose digit all keys share moves nothing).
   */
  private sortDescending(row: Float32Array): Uint32Array {
    const n = row.length;
    if (this.order.length !== n) {
      this.order = new Uint32Array(n);
      this.scratch = new Uint32Array(n);
      this.keys = new Uint32Array(n);
      this.keyScratch = new Uint32Array(n);
    }
    const bits = new Uint32Array(row.buffer, row.byteOffset, n);
    let order = this.order;
    let nextOrder = this.scratch;
    let keys = this.keys;
    let nextKeys = this.keyScratch;
    for (let i = 0; i < n; i++) {
      // -0 compares equal to +0, so it sorts as +0; then larger floats get smaller keys
      const b = row[i] === 0 ? 0 : bits[i];
      keys[i] = b & 0x80000000 ? b : ~b & 0x7fffffff;
      order[i] = i;
    }
    const counts = this.counts;
    for (let shift = 0; shift < 32; shift += 11) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 0x7ff]++;
      if (counts[(keys[0] >>> shift) & 0x7ff] === n) continue;
      for (let d = 0, at = 0; d < 2048; d++) {
        const count = counts[d];
        counts[d] = at; // where this digit's run starts
        at += count;
      }
      for (let i = 0; i < n; i++) {
        const key = keys[i];
        const to = counts[(key >>> shift) & 0x7ff]++;
        nextKeys[to] = key;
        nextOrder[to] = order[i];
      }
      const sorted = nextOrder;
      nextOrder = order;
      order = sorted;
      const sortedKeys = nextKeys;
      nextKeys = keys;
      keys = sortedKeys;
    }
    return order;
  }
}

type LogitsProcessorFactory = (config: GenerationSettings, inputLength: number, extra: LogitsProcessorList | null) => LogitsProcessorList;
interface GenerationSettings {
  do_sample: boolean;
  top_k: number;
}

/**
 * Has `model.generate` use the typed steps: the processor list transformers.js builds for a call
 * gets TypedGuidance in place of its guidance processor and, when sampling, TypedMultinomial last,
 * with `do_sample` turned off so that transformers.js' greedy sampler reads the drawn token (the
 * same switch its list builder makes itself for temperature 0). Everything else — the processors'
 * order, the stopping criteria, the streamer, the KV cache — stays transformers.js'.
 */
export function useTypedGeneration(model: PreTrainedModel): void {
  const target = model as unknown as { _get_logits_processor: LogitsProcessorFactory };
  const build = target._get_logits_processor.bind(model);
  target._get_logits_processor = (config, inputLength, extra) => {
    const list = build(config, inputLength, extra) as LogitsProcessorList & { processors: LogitsProcessor[] };
    list.processors = list.processors.map((p) =>
      p instanceof ClassifierFreeGuidanceLogitsProcessor ? new TypedGuidance((p as unknown as { guidance_scale: number }).guidance_scale) : p,
    );
    if (config.do_sample) {
      list.push(new TypedMultinomial(config.top_k));
      config.do_sample = false;
    }
    return list;
  };
}
