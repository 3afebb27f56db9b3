import { LogitsProcessorList, TopPLogitsWarper, type Tensor } from '@huggingface/transformers';

/**
 * transformers.js' TopPLogitsWarper with the filtering its 4.x release leaves out (the class has no
 * `_call`, and `generate` adds none): in each row, only the smallest set of most likely tokens whose
 * probability reaches `top_p` keeps its logit, the rest become `filter_value`. It runs after
 * transformers.js' temperature warper; as in transformers (Python), top-p is taken over the top-k
 * tokens when `top_k` is set (transformers.js' sampler applies top-k itself, afterwards). Tokens tied
 * with the last one kept are kept too, so the result does not depend on sort order.
 */
export class TopKTopPWarper extends TopPLogitsWarper {
  private readonly topK: number;

  constructor(topP: number, topK: number) {
    super(topP);
    this.topK = topK;
  }

  override _call(_inputIds: bigint[][], logits: Tensor): Tensor {
    const vocab = logits.dims.at(-1)!;
    const data = logits.data as Float32Array;
    for (let at = 0; at < data.length; at += vocab) this.filterRow(data.subarray(at, at + vocab));
    return logits;
  }

  private filterRow(row: Float32Array): void {
    const sorted = Float32Array.from(row).sort().reverse(); // descending; a native numeric sort
    const k = this.topK > 0 ? Math.min(this.topK, row.length) : row.length;
    const max = sorted[0];
    let total = 0;
    for (let i = 0; i < k; i++) total += Math.exp(sorted[i] - max);
    let mass = 0;
    let cut = max;
    for (let i = 0; i < k && mass < this.top_p * total; i++) {
      mass += Math.exp(sorted[i] - max);
      cut = sorted[i];
    }
    for (let v = 0; v < row.length; v++) if (row[v] < cut) row[v] = this.filter_value;
  }
}

/** The extra logits processors for a sampled generation: top-p when it filters anything (`topP < 1`). */
export function samplingProcessors(topP: number, topK: number): LogitsProcessorList | undefined {
  if (topP >= 1) return undefined;
  const list = new LogitsProcessorList();
  list.push(new TopKTopPWarper(topP, topK));
  return list;
}
