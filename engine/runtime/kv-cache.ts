import * as ort from 'onnxruntime-node';

/** A graph run's inputs by name. */
export type Feeds = Record<string, ort.Tensor>;

/** The transformer's KV tensors by name, per layer: the past inputs, and what each run returns of them. */
export interface KvNames {
  past: readonly string[];
  /** Outputs holding past and new positions (present = Concat(past, new)), one per past input. */
  present: readonly string[];
  /** Outputs holding only the positions a run was fed, one per past input; absent where the graph has none. */
  fresh?: readonly string[];
}

/** The KV cache between one decoding loop's runs: what to fetch from each run, and the next run's past inputs. */
export interface KvCache {
  /** The outputs each run should return (logits and what the cache reads). */
  readonly fetches: readonly string[];
  /** Past inputs for the first run (no positions yet). */
  empty(rows: number): Feeds;
  /** The next run's past inputs from a run's outputs: every row, or only the `keep` rows in that order. */
  next(out: ort.InferenceSession.ReturnType, keep: readonly number[] | null): Feeds;
}

export interface KvShape {
  heads: number;
  headDim: number;
  /** Positions a loop decodes at most (the task's layout length). */
  positions: number;
}

/**
 * The cache a decoding loop keeps: in buffers of its own where the graph returns only new positions (each step
 * appends them), else the presents the graph returns (each step a fresh copy of the whole cache: ~57 MB a
 * tiny-shapes call, which V8 counts as external memory and answered with a full collection per call).
 */
export function kvCache(names: KvNames, logits: string, shape: KvShape, buffers: KvBuffers): KvCache {
  return names.fresh ? new AppendedKv(names.past, names.fresh, logits, shape, buffers) : new PresentKv(names.past, names.present, logits, shape);
}

/**
 * The Float32Arrays of one model's kept caches, from one decoding loop to the next: a model's loops run one at a
 * time (its device queue runs one job at a time), and buffers made afresh for each loop (16 MB for a batch of 16
 * guided images) were again memory V8 answered with a full collection per batch.
 */
export class KvBuffers {
  private pairs: [Float32Array, Float32Array][] = [];

  /** `count` pairs of at least `length` floats each, for the loop now running (the next loop gets the same ones). */
  take(count: number, length: number): [Float32Array, Float32Array][] {
    if (this.pairs.length < count || this.pairs[0][0].length < length) {
      this.pairs = Array.from({ length: count }, () => [new Float32Array(length), new Float32Array(length)]);
    }
    return this.pairs;
  }
}

/** Past inputs of no positions: a run over the whole prefix, or a first run. */
export function emptyPast(past: readonly string[], rows: number, { heads, headDim }: Pick<KvShape, 'heads' | 'headDim'>): Feeds {
  const empty = new ort.Tensor('float32', new Float32Array(0), [rows, heads, 0, headDim]);
  return Object.fromEntries(past.map((name) => [name, empty]));
}

/** A cache read from `returned`, one output per past input, fetched with the logits. */
abstract class ReturnedKv implements KvCache {
  readonly fetches: readonly string[];

  constructor(
    protected readonly past: readonly string[],
    protected readonly returned: readonly string[],
    logits: string,
    protected readonly shape: KvShape,
  ) {
    this.fetches = [logits, ...returned];
  }

  empty(rows: number): Feeds {
    return emptyPast(this.past, rows, this.shape);
  }

  abstract next(out: ort.InferenceSession.ReturnType, keep: readonly number[] | null): Feeds;
}

/** The graph's presents, as returned, are the next past. */
class PresentKv extends ReturnedKv {
  next(out: ort.InferenceSession.ReturnType, keep: readonly number[] | null): Feeds {
    const feeds: Feeds = {};
    this.returned.forEach((name, i) => (feeds[this.past[i]] = keep ? keepRows(out[name] as ort.Tensor, keep) : (out[name] as ort.Tensor)));
    return feeds;
  }
}

/** The given rows (first dimension) of a float tensor, copied. */
function keepRows(t: ort.Tensor, keep: readonly number[]): ort.Tensor {
  const data = t.data as Float32Array;
  const size = data.length / t.dims[0];
  const kept = new Float32Array(keep.length * size);
  keep.forEach((r, i) => kept.set(data.subarray(r * size, (r + 1) * size), i * size));
  return new ort.Tensor('float32', kept, [keep.length, ...t.dims.slice(1)]);
}

/**
 * The cache in two buffers per past input, kept by the model (KvBuffers): each step writes the past so far and the
 * run's new positions, row by row and head by head, into the buffer the last step did not use, and feeds a
 * view of it ([rows, heads, positions, headDim], as the graph takes it). Reusing the buffers is safe: a run
 * has read its inputs once it returns. Same numbers as the presents, so the same tokens.
 */
class AppendedKv extends ReturnedKv {
  private buffers: [Float32Array, Float32Array][] | undefined;
  private flip = 0;
  private positions = 0;
  private rows = 0;

  constructor(past: readonly string[], returned: readonly string[], logits: string, shape: KvShape, private readonly pool: KvBuffers) {
    super(past, returned, logits, shape);
  }

  override empty(rows: number): Feeds {
    this.rows = rows;
    this.positions = 0;
    return super.empty(rows);
  }

  next(out: ort.InferenceSession.ReturnType, keep: readonly number[] | null): Feeds {
    const { heads, headDim, positions: capacity } = this.shape;
    this.buffers ??= this.pool.take(this.past.length, this.rows * heads * capacity * headDim);
    const added = (out[this.returned[0]] as ort.Tensor).dims[2];
    const before = this.positions;
    const after = before + added;
    if (after > capacity) throw new Error(`the KV cache holds ${capacity} positions; a run took it to ${after}`);
    const kept = keep ?? Array.from({ length: this.rows }, (_, r) => r);
    const from = this.flip;
    const to = 1 - from;
    const feeds: Feeds = {};
    this.returned.forEach((name, i) => {
      const [source, target] = [this.buffers![i][from], this.buffers![i][to]];
      const fresh = (out[name] as ort.Tensor).data as Float32Array;
      let at = 0;
      for (const row of kept) {
        for (let head = 0; head < heads; head++) {
          const block = row * heads + head;
          target.set(source.subarray(block * before * headDim, (block + 1) * before * headDim), at);
          at += before * headDim;
          target.set(fresh.subarray(block * added * headDim, (block + 1) * added * headDim), at);
          at += added * headDim;
        }
      }
      feeds[this.past[i]] = new ort.Tensor('float32', target.subarray(0, at), [kept.length, heads, after, headDim]);
    });
    this.flip = to;
    this.positions = after;
    this.rows = kept.length;
    return feeds;
  }
}
