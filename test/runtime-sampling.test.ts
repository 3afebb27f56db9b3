import { describe, expect, it } from 'vitest';
import { Picker, Rng, type SamplingParams } from '../engine/runtime/sampling';

const greedy: SamplingParams = { cfg: 1, cfgMinRatio: 0.01, temperature: 0, topK: 0, topP: 1 };
const logits = Float32Array.from([0, 2, 5, 1, 4.9]);

describe('sampling', () => {
  it('the same seed and stream give the same numbers; another stream differs', () => {
    const draw = (seed: number, stream: number) => Array.from({ length: 5 }, ((r) => () => r.next())(new Rng(seed, stream)));
    expect(draw(7, 0)).toEqual(draw(7, 0));
    expect(draw(7, 1)).not.toEqual(draw(7, 0));
    expect(draw(7, 0).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('temperature 0 is the argmax of the allowed range', () => {
    const picker = new Picker(5);
    expect(picker.pick(logits, 0, null, 0, 5, greedy, new Rng(0))).toBe(2);
    expect(picker.pick(logits, 0, null, 3, 5, greedy, new Rng(0))).toBe(4);
  });

  it('top-k 1 and a tiny top-p leave only the best token', () => {
    const picker = new Picker(5);
    const rng = new Rng(3);
    for (let i = 0; i < 20; i++) {
      expect(picker.pick(logits, 0, null, 0, 5, { ...greedy, temperature: 1, topK: 1 }, rng)).toBe(2);
      expect(picker.pick(logits, 0, null, 0, 5, { ...greedy, temperature: 1, topP: 0.01 }, rng)).toBe(2);
    }
  });

  it('guidance never picks a token the conditional model finds implausible', () => {
    // conditional: token 0 is 1e-4 of the best; unconditional finds it even less likely, so plain guidance would lift it
    const both = Float32Array.from([Math.log(1e-4), 0, 0.1, Math.log(1e-12), 0, 0]);
    const picker = new Picker(3);
    const p = { ...greedy, cfg: 20 };
    expect(picker.pick(both, 0, 3, 0, 3, { ...p, cfgMinRatio: 0 }, new Rng(0))).toBe(0); // plain guidance
    expect(picker.pick(both, 0, 3, 0, 3, p, new Rng(0))).not.toBe(0); // restricted guidance
  });
});
