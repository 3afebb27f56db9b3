/** Seeded random numbers: same seed ⇒ same stream on every platform (mulberry32 over a splitmix-hashed seed). */
export class Rng {
  private state: number;

  constructor(seed: number, stream = 0) {
    let h = (Math.trunc(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.state = (h ^ (h >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export interface SamplingParams {
  /** Guidance scale; 1 = conditional only. */
  cfg: number;
  /** Guided choice only among tokens whose conditional probability is at least this share of the best one's. */
  cfgMinRatio: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
}

/** Working memory for picking tokens over ranges of at most `size` entries, reused across steps. */
export class Picker {
  private readonly score: Float64Array;
  private readonly order: Int32Array;
  private readonly prob: Float64Array;

  constructor(size: number) {
    this.score = new Float64Array(size);
    this.order = new Int32Array(size);
    this.prob = new Float64Array(size);
  }

  /**
   * Picks a token id in [lo, hi) from conditional logits (and unconditional ones when guided),
   * both read from `logits` at the given row offsets.
   */
  pick(logits: Float32Array, condAt: number, uncondAt: number | null, lo: number, hi: number, p: SamplingParams, rng: Rng): number {
    const n = hi - lo;
    const s = this.score;
    const cLse = logSumExp(logits, condAt + lo, n);
    if (uncondAt === null || p.cfg === 1) {
      for (let i = 0; i < n; i++) s[i] = logits[condAt + lo + i] - cLse;
    } else {
      // Guidance lifts what the unconditional model finds unlikely; letting it pick tokens the
      // conditional model finds implausible wrecks accuracy, so those are ruled out.
      const uLse = logSumExp(logits, uncondAt + lo, n);
      let best = -Infinity;
      for (let i = 0; i < n; i++) best = Math.max(best, logits[condAt + lo + i] - cLse);
      const floor = best + Math.log(p.cfgMinRatio);
      for (let i = 0; i < n; i++) {
        const lc = logits[condAt + lo + i] - cLse;
        const lu = logits[uncondAt + lo + i] - uLse;
        s[i] = lc >= floor ? lu + p.cfg * (lc - lu) : -Infinity;
      }
    }
    return lo + (p.temperature === 0 ? argmax(s, n) : this.sample(n, p, rng));
  }

  private sample(n: number, p: SamplingParams, rng: Rng): number {
    const { score, order, prob } = this;
    let m = 0;
    for (let i = 0; i < n; i++) if (score[i] > -Infinity) order[m++] = i;
    const sorted = order.subarray(0, m).sort((a, b) => score[b] - score[a]);
    const k = p.topK > 0 ? Math.min(p.topK, m) : m;
    const top = score[sorted[0]];
    let total = 0;
    for (let i = 0; i < k; i++) total += prob[i] = Math.exp((score[sorted[i]] - top) / p.temperature);
    let keep = k;
    if (p.topP < 1) {
      // keep the smallest prefix whose mass reaches topP
      let mass = 0;
      keep = 0;
      while (keep < k && mass < p.topP * total) mass += prob[keep++];
      total = mass;
    }
    let u = rng.next() * total;
    for (let i = 0; i < keep; i++) {
      u -= prob[i];
      if (u < 0) return sorted[i];
    }
    return sorted[keep - 1];
  }
}

function logSumExp(x: Float32Array, at: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[at + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(x[at + i] - max);
  return max + Math.log(sum);
}

function argmax(x: Float64Array, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Mean log-probability of `targets[i]` under logits row i (full vocabulary). */
export function meanLogProb(logits: Float32Array, vocab: number, rows: number[], targets: number[]): number {
  let sum = 0;
  rows.forEach((row, i) => (sum += logits[row * vocab + targets[i]] - logSumExp(logits, row * vocab, vocab)));
  return sum / rows.length;
}
