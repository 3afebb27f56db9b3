// The prompt widget's word knowledge (editor/src/vocabulary.ts): read from a `GET /api/models`
// answer, normalised like the tiny model's tokenizer, used for completion and unknown-word marks.

import { describe, expect, it } from 'vitest';
import { completions, promptWords, unknownWords, vocabulariesOf, vocabularyFor } from '../editor/src/vocabulary';

const report = {
  models: [
    { name: 'tiny-shapes', vocabulary: ['<pad>', 'a', 'large', 'red', 'circle', 'center', 'in', 'the', 'circles'] },
    { name: '__proto__', vocabulary: ['square'] },
    { name: 'open-text' },
    { vocabulary: ['nameless'] },
  ],
};

describe('prompt vocabulary', () => {
  it('reads each model’s words (special tokens left out) and treats a model without them as open', () => {
    const all = vocabulariesOf(report);
    expect([...all.keys()]).toEqual(['tiny-shapes', '__proto__', 'open-text']);
    expect([...vocabularyFor(all, 'tiny-shapes')!]).toEqual(['a', 'large', 'red', 'circle', 'center', 'in', 'the', 'circles']);
    expect(vocabularyFor(all, 'open-text')).toBeNull();
    expect(vocabularyFor(all, 'toString')).toBeNull();
    // A prompt that names no model is checked only when every model publishes its words.
    expect(vocabularyFor(all)).toBeNull();
    expect([...vocabularyFor(new Map([...all].filter(([n]) => n !== 'open-text')))!]).toContain('square');
    expect(vocabulariesOf({ models: 'no' }).size).toBe(0);
    expect(vocabulariesOf(null).size).toBe(0);
  });

  it('normalises case and punctuation, and names each unknown word once', () => {
    const words = vocabularyFor(vocabulariesOf(report), 'tiny-shapes');
    expect(promptWords('A large, RED circle.')).toEqual(['a', 'large', 'red', 'circle']);
    expect(unknownWords('A large red circle in the center.', words)).toEqual([]);
    expect(unknownWords('an enormous red circle, an enormous one', words)).toEqual(['an', 'enormous', 'one']);
    expect(unknownWords('anything at all', null)).toEqual([]);
  });

  it('completes a prefix with the shortest words first, not the word itself', () => {
    const words = vocabularyFor(vocabulariesOf(report), 'tiny-shapes');
    expect(completions('ci', words)).toEqual(['circle', 'circles']);
    expect(completions('Ce', words)).toEqual(['center']);
    expect(completions('circle', words)).toEqual(['circles']);
    expect(completions('', words)).toEqual([]);
    expect(completions('c', null)).toEqual([]);
  });
});
