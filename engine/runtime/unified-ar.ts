import * as ort from 'onnxruntime-node';
import { makeImage, resizeImage, type ImageValue } from '../image';
import { TaskLayout } from './layout';
import type { SamplingDefaults, TaskName, TokenizerFile, UnifiedArManifest } from './manifest';
import type { DeviceQueue } from './queue';
import { meanLogProb, Picker, Rng, type SamplingParams } from './sampling';
import { CallBatcher, type BatchMember } from './batcher';
import { bundleLoader, type BundleRef, type Sessions } from './bundle-sessions';
import { cannot, type AdapterHost } from './formats';
import type { CallOptions, CallStats, CaptionOptions, GenerateOptions, ImageModel } from './model';
import type { Loader, SessionManager } from './sessions';
import { WordTokenizer } from './tokenizer';
import { emptyPast, kvCache, KvBuffers, type Feeds, type KvCache, type KvNames } from './kv-cache';

const int64 = (data: BigInt64Array, dims: number[]) => new ort.Tensor('int64', data, dims);

/** A call's rows while they decode with other calls' rows in one batch. */
interface Decoding<T> {
  /** Full-length rows, prefix filled; each chosen token is written in. */
  rows: BigInt64Array[];
  /** Positions it samples at most (its progress total). */
  steps: number;
  /** Tokens for its rows (cycled) at the next position, from each row's last logits at `rowAt[i]`; null when done. */
  choose(logits: Float32Array, rowAt: readonly number[]): number[] | null;
  /** The call's result from its finished rows. */
  finish(s: Sessions, timer: Timer): Promise<T>;
}

/** A generate, edit or caption call waiting for (or in) a batch of its task. */
interface DecodeCall extends BatchMember {
  task: TaskName;
  call: CallOptions;
  /** Its rows, made once the sessions are loaded (edit and caption encode their image here). */
  prepare(s: Sessions, timer: Timer): Promise<Decoding<unknown>>;
  succeed(value: unknown): void;
}

/** A prepared call in the decode loop. */
interface Active {
  member: DecodeCall;
  decoding: Decoding<unknown>;
}

/** Times every session.run of one call. */
class Timer {
  runMs = 0;
  runs = 0;
  readonly start = performance.now();

  /** Runs a graph; `fetches` names the outputs to return (all of them when absent). */
  async run(session: ort.InferenceSession, feeds: Feeds, fetches?: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
    const t = performance.now();
    const out = await (fetches ? session.run(feeds, fetches) : session.run(feeds));
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
 * manifest; every call runs as one job on the device queue, except that generate, edit and caption
 * calls of different runs join batches (`lastStats` is then that of the whole batch).
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
  private readonly kvNames: KvNames;
  /** The kept KV caches' buffers, reused by each decoding loop (see kv-cache.ts). */
  private readonly kvBuffers = new KvBuffers();
  private readonly textAllowed: Int32Array;
  private readonly sessions: SessionManager;
  private readonly queue: DeviceQueue;
  private readonly batcher: CallBatcher<DecodeCall>;

  constructor(bundle: BundleRef & { tokenizer: TokenizerFile }, host: AdapterHost) {
    this.sessions = host.sessions;
    this.queue = host.queue;
    this.loader = bundleLoader(bundle, this.sessions);
    this.batcher = new CallBatcher(this.queue, host.batchRows, (members) => this.runBatch(members));
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
    this.kvNames = {
      past: names(kv.pastKey, kv.pastValue),
      present: names(kv.presentKey, kv.presentValue),
      fresh: kv.newKey && kv.newValue ? names(kv.newKey, kv.newValue) : undefined,
    };
    // a caption may use any word, or end
    const [lo, hi] = m.vocab.wordRange;
    const out = m.tasks.caption?.layout.find((s) => s.kind === 'text' && s.name === m.tasks.caption?.output);
    const eos = out?.kind === 'text' && out.eos ? [this.tokenizer.id(out.eos)] : [];
    this.textAllowed = Int32Array.from([...eos, ...Array.from({ length: hi - lo }, (_, i) => lo + i)]);
  }

  // ---- tasks ----------------------------------------------------------------------------------

  generate(prompt: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<ImageValue[]> {
    return this.sampleImages('generate', options, call, async () => this.generateRows(prompt, options), (s, timer, codes) => this.decodeWith(s, timer, codes));
  }

  edit(image: ImageValue, instruction: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<ImageValue[]> {
    return this.sampleImages('edit', options, call, (s, timer) => this.editRows(s, timer, image, instruction), (s, timer, codes) => this.decodeWith(s, timer, codes));
  }

  generateCodes(prompt: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<Int32Array[]> {
    return this.sampleImages('generate', options, call, async () => this.generateRows(prompt, options), async (_s, _timer, codes) => codes);
  }

  editCodes(image: ImageValue, instruction: string, options: GenerateOptions = {}, call: CallOptions = {}): Promise<Int32Array[]> {
    return this.sampleImages('edit', options, call, (s, timer) => this.editRows(s, timer, image, instruction), async (_s, _timer, codes) => codes);
  }

  async caption(image: ImageValue, options: CaptionOptions = {}, call: CallOptions = {}): Promise<string> {
    const layout = this.layout('caption');
    const { output, image: input } = layout.spec;
    const segment = layout.segment(output!);
    const defaults = this.manifest.defaults.caption ?? { temperature: 0, maxTokens: segment.length };
    const maxTokens = Math.min(options.maxTokens ?? defaults.maxTokens, segment.length);
    const temperature = options.temperature ?? defaults.temperature;
    const eos = segment.segment.kind === 'text' && segment.segment.eos ? this.tokenizer.id(segment.segment.eos) : -1;
    return this.batched<string>('caption', call, 1, async (s, timer) => {
      const codes = await this.encodeWith(s, timer, image);
      const row = layout.row({}, { [input!]: codes }, this.manifest.image.vocabOffset);
      const allowed = this.textAllowed;
      const gathered = new Float32Array(allowed.length);
      const picker = new Picker(allowed.length);
      const rng = new Rng(options.seed ?? 0);
      const params: SamplingParams = { cfg: 1, cfgMinRatio: 0, temperature, topK: 0, topP: 1 };
      const words: string[] = [];
      return {
        rows: [row],
        steps: maxTokens,
        choose: (logits, [at]) => {
          for (let i = 0; i < allowed.length; i++) gathered[i] = logits[at + allowed[i]];
          const id = allowed[picker.pick(gathered, 0, null, 0, allowed.length, params, rng)];
          if (id === eos) return null;
          words.push(this.tokenizer.token(id));
          return [id];
        },
        finish: async () => words.join(' '),
      };
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
      const roles = this.manifest.graphs.transformer.roles;
      const out = await timer.run(s.transformer, this.feeds(layout, [row], 0, layout.length, this.noPast(1)), [roles.logits]);
      const logits = out[roles.logits].data as Float32Array;
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

  /**
   * A generate, edit or caption call: it joins the batch forming for its task on the device queue, so
   * calls of different runs decode together (one session.run per step for all their rows); each keeps
   * its own rows, random streams, progress and cancel.
   */
  private batched<T>(task: TaskName, call: CallOptions, rows: number, prepare: (s: Sessions, timer: Timer) => Promise<Decoding<T>>): Promise<T> {
    const cached = call.kvCache ?? true;
    return new Promise<T>((resolve, reject) => {
      const member: DecodeCall = { task, call, rows, signal: call.signal, prepare, succeed: resolve as (v: unknown) => void, fail: reject };
      this.batcher.add(cached ? task : `${task} (no KV cache)`, member);
    });
  }

  /** One batch of calls of one task: each prepared (a failure fails that call only), decoded together, finished. */
  private runBatch(members: DecodeCall[]): Promise<void> {
    const onLoad = (step: number, total: number) => members.forEach((m) => m.call.onProgress?.(step, total));
    return this.sessions.use(
      this.loader,
      async (s) => {
        const timer = new Timer();
        try {
          const active: Active[] = [];
          for (const member of members) {
            try {
              active.push({ member, decoding: await member.prepare(s, timer) });
            } catch (err) {
              member.fail(err);
            }
          }
          if (active.length === 0) return;
          for (const { member, decoding } of await this.decodeLoop(s, timer, members[0].task, active, members[0].call.kvCache ?? true)) {
            try {
              member.succeed(await decoding.finish(s, timer));
            } catch (err) {
              member.fail(err);
            }
          }
        } finally {
          this.lastStats = timer.stats();
        }
      },
      onLoad,
    );
  }

  private generateRows(prompt: string, options: GenerateOptions): { cond: BigInt64Array; uncond: BigInt64Array } {
    const layout = this.layout('generate');
    const text = layout.spec.text!;
    const off = this.manifest.image.vocabOffset;
    const cond = layout.row({ [text]: layout.textIds(text, prompt, 'prompt') }, {}, off);
    const negative = options.negative ? layout.textIds(text, options.negative, 'negative prompt') : null;
    return { cond, uncond: layout.row({ [text]: negative }, {}, off) };
  }

  private async editRows(s: Sessions, timer: Timer, image: ImageValue, instruction: string): Promise<{ cond: BigInt64Array; uncond: BigInt64Array }> {
    const layout = this.layout('edit');
    const { text, image: input } = layout.spec;
    const ids = layout.textIds(text!, instruction, 'instruction');
    const codes = await this.encodeWith(s, timer, image);
    const off = this.manifest.image.vocabOffset;
    return { cond: layout.row({ [text!]: ids }, { [input!]: codes }, off), uncond: layout.row({ [text!]: null }, { [input!]: codes }, off) };
  }

  private noPast(rows: number): Feeds {
    return emptyPast(this.kvNames.past, rows, this.manifest.graphs.transformer.kvCache);
  }

  /** A decoding loop's KV cache for a task (see kv-cache.ts). */
  private kvCache(layout: TaskLayout): KvCache {
    const { heads, headDim } = this.manifest.graphs.transformer.kvCache;
    return kvCache(this.kvNames, this.manifest.graphs.transformer.roles.logits, { heads, headDim, positions: layout.length }, this.kvBuffers);
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

  /**
   * Decodes the calls' rows together: the prefix [0, start) of every row in one run, then one position
   * per step. A call leaves the batch when it is done (its last step, or `choose` says so) or cancelled
   * (failed at once); the others go on with its rows taken out of the batch. Returns the calls that finished.
   */
  private async decodeLoop(s: Sessions, timer: Timer, task: TaskName, active: Active[], cached: boolean): Promise<Active[]> {
    const layout = this.layout(task);
    const start = layout.segment(layout.spec.output!).start;
    const V = this.manifest.vocab.size;
    const roles = this.manifest.graphs.transformer.roles;
    const finished: Active[] = [];
    let rows = active.flatMap((a) => a.decoding.rows);
    // Without the cache a run needs only the logits: the KV outputs it would return are never read.
    const kv = cached ? this.kvCache(layout) : undefined;
    const fetches = kv ? kv.fetches : [roles.logits];
    let out = await timer.run(s.transformer, this.feeds(layout, rows, 0, start, kv ? kv.empty(rows.length) : this.noPast(rows.length)), fetches);
    let width = start;
    for (let step = 0; ; step++) {
      const logits = out[roles.logits].data as Float32Array;
      const staying: Active[] = [];
      const keep: number[] = []; // batch rows that go on, and their next tokens
      const next: number[] = [];
      let first = 0;
      for (const a of active) {
        const { rows: own, steps } = a.decoding;
        const at = first;
        first += own.length;
        const { signal, onProgress } = a.member.call;
        if (signal?.aborted) {
          a.member.fail(signal.reason);
          continue;
        }
        const chosen = a.decoding.choose(logits, own.map((_, i) => ((at + i) * width + width - 1) * V));
        onProgress?.(step + 1, steps);
        if (chosen === null || step + 1 === steps) {
          finished.push(a);
          continue;
        }
        staying.push(a);
        own.forEach((row, i) => {
          row[start + step] = BigInt(chosen[i % chosen.length]);
          keep.push(at + i);
          next.push(chosen[i % chosen.length]);
        });
      }
      if (staying.length === 0) return finished;
      const at = start + step;
      const R = keep.length;
      rows = staying.flatMap((a) => a.decoding.rows);
      if (kv) {
        const past = kv.next(out, R < first ? keep : null);
        const ids = BigInt64Array.from(next, BigInt);
        const pos = new BigInt64Array(R).fill(BigInt(at));
        const cells = new BigInt64Array(R).fill(layout.cells[at]);
        out = await timer.run(s.transformer, { [roles.tokens]: int64(ids, [R, 1]), [roles.positions]: int64(pos, [R, 1]), [roles.cells]: int64(cells, [R, 1]), ...past }, fetches);
      } else {
        out = await timer.run(s.transformer, this.feeds(layout, rows, 0, at + 1, this.noPast(R)), fetches);
      }
      width = kv ? 1 : at + 1;
      active = staying;
    }
  }

  /** A generate or edit call's codes: guided calls put their unconditional rows after their conditional ones. */
  private async sampleImages<T>(
    task: 'generate' | 'edit',
    options: GenerateOptions,
    call: CallOptions,
    rowsOf: (s: Sessions, timer: Timer) => Promise<{ cond: BigInt64Array; uncond: BigInt64Array }>,
    finish: (s: Sessions, timer: Timer, codes: Int32Array[]) => Promise<T>,
  ): Promise<T> {
    const layout = this.layout(task);
    const params = this.sampling(task, options);
    const n = options.count ?? 1;
    const guided = layout.spec.guidance === true && params.cfg !== 1;
    return this.batched<T>(task, call, guided ? 2 * n : n, async (s, timer) => {
      const { cond, uncond } = await rowsOf(s, timer);
      const rows = Array.from({ length: guided ? 2 * n : n }, (_, r) => (r < n ? cond : uncond).slice());
      const rngs = Array.from({ length: n }, (_, i) => new Rng(options.seed ?? 0, i));
      const tokens = this.manifest.image.tokens;
      const codes = Array.from({ length: n }, () => new Int32Array(tokens));
      const picker = new Picker(this.manifest.vocab.size);
      const chosen = new Array<number>(n);
      const off = this.manifest.image.vocabOffset;
      let slot = 0;
      return {
        rows,
        steps: tokens,
        choose: (logits, rowAt) => {
          for (let i = 0; i < n; i++) {
            chosen[i] = picker.pick(logits, rowAt[i], guided ? rowAt[n + i] : null, this.slotLo[slot], this.slotHi[slot], params, rngs[i]);
            codes[i][slot] = chosen[i] - off;
          }
          slot++;
          return chosen;
        },
        finish: (s, timer) => finish(s, timer, codes),
      };
    });
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
