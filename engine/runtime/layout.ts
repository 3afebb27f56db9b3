import type { Segment, TaskSpec } from './manifest';
import type { WordTokenizer } from './tokenizer';

interface Placed {
  segment: Segment;
  start: number;
  length: number;
}

/**
 * A task's fixed sequence layout from the manifest: where each segment sits, the cell id of each
 * position (1-based slot inside an image segment, 0 elsewhere) and how to fill a row.
 */
export class TaskLayout {
  readonly length: number;
  readonly cells: BigInt64Array;
  private readonly placed = new Map<string, Placed>();
  private readonly order: Placed[] = [];

  constructor(
    readonly spec: TaskSpec,
    private readonly imageTokens: number,
    private readonly tokenizer: WordTokenizer,
    private readonly pad: number,
  ) {
    let pos = 0;
    for (const segment of spec.layout) {
      const length = segment.kind === 'token' ? 1 : segment.kind === 'image' ? imageTokens : segment.length;
      const placed = { segment, start: pos, length };
      this.order.push(placed);
      this.placed.set(segment.kind === 'token' ? segment.token : segment.name, placed);
      pos += length;
    }
    this.length = pos;
    this.cells = new BigInt64Array(pos);
    for (const p of this.order) {
      if (p.segment.kind === 'image') for (let i = 0; i < p.length; i++) this.cells[p.start + i] = BigInt(i + 1);
    }
  }

  segment(name: string): Placed {
    const p = this.placed.get(name);
    if (!p) throw new Error(`layout has no segment '${name}'`);
    return p;
  }

  /** Word ids for a text segment, checked against its length (room is kept for its end token). */
  textIds(name: string, text: string, what: string): number[] {
    const p = this.segment(name);
    if (p.segment.kind !== 'text') throw new Error(`segment '${name}' is not text`);
    const ids = this.tokenizer.encode(text);
    const room = p.length - (p.segment.eos ? 1 : 0);
    if (ids.length > room) throw new Error(`${what} has ${ids.length} words; this model takes at most ${room}`);
    if (ids.length === 0) throw new Error(`${what} is empty`);
    return ids;
  }

  /**
   * One full row: special tokens in place, texts (word ids, then the segment's end token, then pads;
   * a missing text is all pads = unconditional) and images (codes + vocabOffset). Unfilled slots are pads.
   */
  row(texts: Record<string, number[] | null>, images: Record<string, ArrayLike<number>>, imageOffset: number): BigInt64Array {
    const out = new BigInt64Array(this.length).fill(BigInt(this.pad));
    for (const { segment, start, length } of this.order) {
      if (segment.kind === 'token') {
        out[start] = BigInt(this.tokenizer.id(segment.token));
      } else if (segment.kind === 'text') {
        const ids = texts[segment.name];
        if (!ids) continue;
        ids.forEach((id, i) => (out[start + i] = BigInt(id)));
        if (segment.eos) out[start + ids.length] = BigInt(this.tokenizer.id(segment.eos));
      } else {
        const codes = images[segment.name];
        if (!codes) continue;
        for (let i = 0; i < length; i++) out[start + i] = BigInt(codes[i] + imageOffset);
      }
    }
    return out;
  }
}
