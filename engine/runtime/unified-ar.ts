import * as ort from 'onnxruntime-node';
import { makeImage, resizeImage, type ImageValue } from '../image';
import { TaskLayout } from './layout';
import type { SamplingDefaults, TaskName, TokenizerFile, UnifiedArManifest } from './manifest';
import type { DeviceQueue } from './queue';
import { meanLogProb, Picker, Rng, type SamplingParams } from './sampling';
import { bundleLoader, type BundleRef, type Sessions } from './bundle-sessions';
import { cannot } from './formats';
import type { CallOptions, CallStats, CaptionOptions, GenerateOptions, ImageModel } from './model';
import type { Loader, SessionManager } from './sessions';
import { WordTokenizer } from './tokenizer';

type Feeds = Record<string, ort.Tensor>;

const int64 = (data: BigInt64Array, dims: number[]) => new ort.Tensor('int64', data, dims);

/** Times every session.run of one call. */
class Timer {
  runMs = 0;
  runs = 0;
  readonly start = performance.now();

  async run(session: ort.InferenceSession, feeds: Feeds): Promise<ort.InferenceSession.ReturnType> {
    const t = performance.now();
    const out = await session.run(feeds);
    this.runMs += performance.now() - t;
    this.runs++;
    return out;
  }

  stats(): CallStats {
    return { wallMs: performance.now() - this.start, runMs: this.runMs, runs: this.runs };
  }
}

/**
 * The adapter for `picflow.unified-ar` bundles: one decoder-only transformer over text + image
 * tokens with a KV cache, an image encoder and decoder. Everything model-specific comes from the
 * manifest; every call runs as one job on the device queue.
 */
export class UnifiedArModel implements ImageModel {
  readonly name: string;
  private readonly loader: Loader<Sessions>;
  readonly tasks: readonly TaskName[];
  readonly size: { width: number; height: number };
  lastStats: CallStats = { wallMs: 0, runMs: 0, runs: 0 };
  private readonly manifest: UnifiedArManifest;
  private readonly tokenizer: WordTokenizer;
  private readonly layouts = new Map<TaskName, TaskLayout>();
  private readonly slotLo: Int32Array;
  private readonly slotHi: Int32Array;
  private readonly kvNames: { past: string[]; present: string[] };
  private readonly textAllowed: Int32Array;

  constructor(
    bundle: BundleRef & { tokenizer: TokenizerFile },
    private readonly sessions: SessionManager,
    private readonly queue: DeviceQueue,
  ) {
    this.loader = bundleLoader(bundle, sessions);
    const m = (this.manifest = bundle.manifest);
    this.name = bundle.name;
    this.tokenizer = new WordTokenizer(bundle.tokenizer, bundle.name);
    this.tasks = (Object.keys(m.tasks) as TaskName[]).filter((t) => m.tasks[t]);
    this.size = { width: m.image.width, height: m.image.height };
    const pad = m.vocab.specials['<pad>'] ?? 0;
    for (const t of this.tasks) this.layouts.set(t, new TaskLayout(m.tasks[t]!, m.image.tokens, this.tokenizer, pad));
    // the vocabulary range each image slot may take
    this.slotLo = new Int32Array(m.image.tokens);
    this.slotHi = new Int32Array(m.image.tokens);
    let slot = 0;
    for (const group of m.image.slots) {
      for (let i = 0; i < group.count; i++, slot++) {
        this.slotLo[slot] = m.image.vocabOffset + group.codes[0];
        this.slotHi[slot] = m.image.vocabOffset + group.codes[1];
      }
    }
    if (slot !== m.image.tokens) throw new Error(`model '${this.name}': image slots cover ${slot} of ${m.image.tokens} tokens`);
    const kv = m.graphs.transformer.kvCache;
    const names = (k: string, v: string) =>
      Array.from({ length: kv.layers }, (_, l) => [k, v].map((t) => t.replace('{layer}', String(l)))).flat();
    this.kvNames = { past: names(kv.pastKey, kv.pastValue), present: names(kv.presentKey, kv.presentValue) };
    // a caption may use any word, or end
    const [lo, hi] = m.vocab.wordRange;
    const out = m.tasks.caption?.layout.find((s) => s.kind === 'text' && s.name === m.tasks.caption?.output);
    const eos = out?.kind === 'text' && out.eos ? [this.tokenizer.id(out.eos)] : [];
    this.textAllowed = Int32Array.from([...eos, ...Array.from({ length: hi - lo }, (_, i) => lo + i)]);
  }

  // ---- tasks ----------------------------------------------------------------------------------

  generate(prompt: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<ImageValue[]> {
    return this.withImages(call, (s, timer) => this.generateWith(s, timer, prompt, options, call));
  }

  edit(image: ImageValue, instruction: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<ImageValue[]> {
    return this.withImages(call, (s, timer) => this.editWith(s, timer, image, instruction, options, call));
  }

  generateCodes(prompt: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<Int32Array[]> {
    return this.job(call, (s, timer) => this.generateWith(s, timer, prompt, options, call));
  }

  editCodes(image: ImageValue, instruction: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<Int32Array[]> {
    return this.job(call, (s, timer) => this.editWith(s, timer, image, instruction, options, call));
  }

  caption(image: ImageValue, options: CaptionOptions = {}, call: CallOptions = {}): Promise<string> {
    const layout = this.layout('caption');
    const { output, image: input } = layout.spec;
    const segment = layout.segment(output!);
    const defaults = this.manifest.defaults.caption ?? { temperature: 0, maxTokens: segment.length };
    const maxTokens = Math.min(options.maxTokens ?? defaults.maxTokens, segment.length);
    const temperature = options.temperature ?? defaults.temperature;
    const eos = segment.segment.kind === 'text' && segment.segment.eos ? this.tokenizer.id(segment.segment.eos) : -1;
    return this.job(call, async (s, timer) => {
      const codes = await this.encodeWith(s, timer, image);
      const row = layout.row({}, { [input!]: codes }, this.manifest.image.vocabOffset);
      const allowed = this.textAllowed;
      const gathered = new Float32Array(allowed.length);
      const picker = new Picker(allowed.length);
      const rng = new Rng(options.seed ?? 0);
      const params: SamplingParams = { cfg: 1, cfgMinRatio: 0, temperature, topK: 0, topP: 1 };
      const words: string[] = [];
      await this.decodeLoop(s, timer, 'caption', [row], segment.start, maxTokens, call, (logits, at) => {
        for (let i = 0; i < allowed.length; i++) gathered[i] = logits[at + allowed[i]];
        const id = allowed[picker.pick(gathered, 0, null, 0, allowed.length, params, rng)];
        if (id === eos) return null;
        words.push(this.tokenizer.token(id));
        return [id];
      });
      return words.join(' ');
    });
  }

  score(image: ImageValue, text: string, call: CallOptions = {}): Promise<number> {
    const layout = this.layout('score');
    const spec = layout.spec;
    const segment = layout.segment(spec.text!);
    const ids = layout.textIds(spec.text!, text, 'text');
    const eos = segment.segment.kind === 'text' && segment.segment.eos ? [this.tokenizer.id(segment.segment.eos)] : [];
    const targets = [...ids, ...eos];
    return this.job(call, async (s, timer) => {
      const codes = await this.encodeWith(s, timer, image);
      const row = layout.row({ [spec.text!]: ids }, { [spec.image!]: codes }, this.manifest.image.vocabOffset);
      const out = await timer.run(s.transformer, this.feeds(layout, [row], 0, layout.length, this.emptyPast(1)));
      const logits = out[this.manifest.graphs.transformer.roles.logits].data as Float32Array;
      const rows = targets.map((_, i) => segment.start - 1 + i); // logits at t predict token t+1
      return Math.exp(meanLogProb(logits, this.manifest.vocab.size, rows, targets));
    });
  }

  async scoreBatch(images: readonly ImageValue[], text: string, call: CallOptions = {}): Promise<number[]> {
    const scores: number[] = [];
    for (const image of images) scores.push(await this.score(image, text, call));
    return scores;
  }

  encode(image: ImageValue, call: CallOptions = {}): Promise<Int32Array> {
    return this.job(call, (s, timer) => this.encodeWith(s, timer, image));
  }

  decode(codes: Int32Array[], call: CallOptions = {}): Promise<ImageValue[]> {
    return this.job(call, (s, timer) => this.decodeWith(s, timer, codes));
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private layout(task: TaskName): TaskLayout {
    const layout = this.layouts.get(task);
    if (!layout) throw cannot(this, task);
    return layout;
  }

  private sampling(task: 'generate' | 'edit', options: GenerateOptions): SamplingParams {
    const d: SamplingDefaults = this.manifest.defaults[task] ?? { cfg: 1, cfgMinRatio: 0.01, temperature: 1, topK: 0, topP: 1 };
    return {
      cfg: options.cfg ?? d.cfg,
      cfgMinRatio: options.cfgMinRatio ?? d.cfgMinRatio,
      temperature: options.temperature ?? d.temperature,
      topK: options.topK ?? d.topK,
      topP: options.topP ?? d.topP,
    };
  }

  /** One job on the device queue with the bundle's sessions; records the call's timing. */
  private job<T>(call: CallOptions, fn: (s: Sessions, timer: Timer) => Promise<T>): Promise<T> {
    const work = () =>
      this.sessions.use(
        this.loader,
        async (s) => {
          const timer = new Timer();
          try {
            return await fn(s, timer);
          } finally {
            this.lastStats = timer.stats();
          }
        },
        call.onProgress,
      );
    return this.queue.run(work, call.signal);
  }

  private withImages(call: CallOptions, sample: (s: Sessions, timer: Timer) => Promise<Int32Array[]>): Promise<ImageValue[]> {
    return this.job(call, async (s, timer) => this.decodeWith(s, timer, await sample(s, timer)));
  }

  private generateWith(s: Sessions, timer: Timer, prompt: string, options: GenerateOptions, call: CallOptions): Promise<Int32Array[]> {
    const layout = this.layout('generate');
    const text = layout.spec.text!;
    const off = this.manifest.image.vocabOffset;
    const cond = layout.row({ [text]: layout.textIds(text, prompt, 'prompt') }, {}, off);
    const negative = options.negative ? layout.textIds(text, options.negative, 'negative prompt') : null;
    const uncond = layout.row({ [text]: negative }, {}, off);
    return this.sampleImages(s, timer, 'generate', cond, uncond, this.sampling('generate', options), options, call);
  }

  private async editWith(
    s: Sessions,
    timer: Timer,
    image: ImageValue,
    instruction: string,
    options: GenerateOptions,
    call: CallOptions,
  ): Promise<Int32Array[]> {
    const layout = this.layout('edit');
    const { text, image: input } = layout.spec;
    const ids = layout.textIds(text!, instruction, 'instruction');
    const codes = await this.encodeWith(s, timer, image);
    const off = this.manifest.image.vocabOffset;
    const cond = layout.row({ [text!]: ids }, { [input!]: codes }, off);
    const uncond = layout.row({ [text!]: null }, { [input!]: codes }, off);
    return this.sampleImages(s, timer, 'edit', cond, uncond, this.sampling('edit', options), options, call);
  }

  private emptyPast(rows: number): Feeds {
    const { heads, headDim } = this.manifest.graphs.transformer.kvCache;
    const empty = new ort.Tensor('float32', new Float32Array(0), [rows, heads, 0, headDim]);
    return Object.fromEntries(this.kvNames.past.map((n) => [n, empty]));
  }

  /** Transformer inputs for positions [from, to) of the given full-length rows. */
  private feeds(layout: TaskLayout, rows: BigInt64Array[], from: number, to: number, past: Feeds): Feeds {
    const n = to - from;
    const ids = new BigInt64Array(rows.length * n);
    const pos = new BigInt64Array(rows.length * n);
    const cells = new BigInt64Array(rows.length * n);
    rows.forEach((row, r) => {
      ids.set(row.subarray(from, to), r * n);
      cells.set(layout.cells.subarray(from, to), r * n);
      for (let i = 0; i < n; i++) pos[r * n + i] = BigInt(from + i);
    });
    const roles = this.manifest.graphs.transformer.roles;
    const dims = [rows.length, n];
    return { [roles.tokens]: int64(ids, dims), [roles.positions]: int64(pos, dims), [roles.cells]: int64(cells, dims), ...past };
  }

  private presentAsPast(out: ort.InferenceSession.ReturnType): Feeds {
    const past: Feeds = {};
    this.kvNames.present.forEach((name, i) => (past[this.kvNames.past[i]] = out[name] as ort.Tensor));
    return past;
  }

  /**
   * Runs the prefix [0, start) of all rows once, then one position per step. `choose` gets the
   * logits and the offset of row 0's last position (row r's is r × logits.length / rows + that),
   * and returns the token per row (cycled over the rows) or null to stop.
   */
  private async decodeLoop(
    s: Sessions,
    timer: Timer,
    task: TaskName,
    rows: BigInt64Array[],
    start: number,
    steps: number,
    call: CallOptions,
    choose: (logits: Float32Array, lastAt: number) => number[] | null,
  ): Promise<void> {
    const layout = this.layout(task);
    const V = this.manifest.vocab.size;
    const cached = call.kvCache ?? true;
    const roles = this.manifest.graphs.transformer.roles;
    // one position per row per step: these inputs are allocated once and refilled
    const R = rows.length;
    const [ids, pos, cells] = [new BigInt64Array(R), new BigInt64Array(R), new BigInt64Array(R)];
    const stepInputs = { [roles.tokens]: int64(ids, [R, 1]), [roles.positions]: int64(pos, [R, 1]), [roles.cells]: int64(cells, [R, 1]) };
    let out = await timer.run(s.transformer, this.feeds(layout, rows, 0, start, this.emptyPast(R)));
    let width = start;
    for (let step = 0; step < steps; step++) {
      call.signal?.throwIfAborted();
      const chosen = choose(out[roles.logits].data as Float32Array, (width - 1) * V);
      call.onProgress?.(step + 1, steps);
      if (chosen === null || step + 1 === steps) return;
      const at = start + step;
      for (let r = 0; r < R; r++) rows[r][at] = ids[r] = BigInt(chosen[r % chosen.length]);
      if (cached) {
        pos.fill(BigInt(at));
        cells.fill(layout.cells[at]);
        out = await timer.run(s.transformer, { ...stepInputs, ...this.presentAsPast(out) });
      } else {
        out = await timer.run(s.transformer, this.feeds(layout, rows, 0, at + 1, this.emptyPast(R)));
      }
      width = cached ? 1 : at + 1;
    }
  }

  /** Samples `count` images' codes; guided runs put the unconditional rows after the conditional ones. */
  private async sampleImages(
    s: Sessions,
    timer: Timer,
    task: 'generate' | 'edit',
    cond: BigInt64Array,
    uncond: BigInt64Array,
    params: SamplingParams,
    options: GenerateOptions,
    call: CallOptions,
  ): Promise<Int32Array[]> {
    const layout = this.layout(task);
    const start = layout.segment(layout.spec.output!).start;
    const n = options.count ?? 1;
    const guided = layout.spec.guidance === true && params.cfg !== 1;
    const rows = Array.from({ length: guided ? 2 * n : n }, (_, r) => (r < n ? cond : uncond).slice());
    const rngs = Array.from({ length: n }, (_, i) => new Rng(options.seed ?? 0, i));
    const tokens = this.manifest.image.tokens;
    const codes = Array.from({ length: n }, () => new Int32Array(tokens));
    const picker = new Picker(this.manifest.vocab.size);
    const chosen = new Array<number>(n);
    const off = this.manifest.image.vocabOffset;
    let slot = 0;
    await this.decodeLoop(s, timer, task, rows, start, tokens, call, (logits, lastAt) => {
      const rowSize = logits.length / rows.length;
      for (let i = 0; i < n; i++) {
        const uncondAt = guided ? (n + i) * rowSize + lastAt : null;
        chosen[i] = picker.pick(logits, i * rowSize + lastAt, uncondAt, this.slotLo[slot], this.slotHi[slot], params, rngs[i]);
        codes[i][slot] = chosen[i] - off;
      }
      slot++;
      return chosen;
    });
    return codes;
  }

  private async encodeWith(s: Sessions, timer: Timer, image: ImageValue): Promise<Int32Array> {
    const { width, height } = this.size;
    const sized = await resizeImage(image, width, height, { kernel: 'nearest', fit: 'fill' });
    const rgb = sized.channels === 3 ? sized.data : dropAlpha(sized.data);
    const spec = this.manifest.graphs.encoder;
    const out = await timer.run(s.encoder, { [spec.inputs[0].name]: new ort.Tensor('uint8', rgb, [1, height, width, 3]) });
    return Int32Array.from(out[spec.outputs[0].name].data as BigInt64Array, Number);
  }

  private async decodeWith(s: Sessions, timer: Timer, codes: Int32Array[]): Promise<ImageValue[]> {
    const { width, height } = this.size;
    const tokens = this.manifest.image.tokens;
    const ids = new BigInt64Array(codes.length * tokens);
    codes.forEach((c, i) => c.forEach((v, j) => (ids[i * tokens + j] = BigInt(v))));
    const spec = this.manifest.graphs.decoder;
    const out = await timer.run(s.decoder, { [spec.inputs[0].name]: int64(ids, [codes.length, tokens]) });
    const pixels = out[spec.outputs[0].name].data as Uint8Array;
    const size = width * height * 3;
    return codes.map((_, i) => makeImage(width, height, 3, pixels.slice(i * size, (i + 1) * size)));
  }
}

function dropAlpha(rgba: Uint8Array): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}
