import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeWords } from '../engine/runtime';
import { tokenizerFile } from '../engine/runtime/manifest';
import { WordTokenizer } from '../engine/runtime/tokenizer';
import { bundleDir } from './model-fixtures';

// The prompt normalisation the tiny model's tokenizer file asks for, as the runtime applies it.
const file = tokenizerFile.parse(JSON.parse(readFileSync(join(bundleDir, 'tokenizer.json'), 'utf8')));
const tokenizer = new WordTokenizer(file, 'tiny-shapes');

describe('prompt normalisation (tiny-shapes tokenizer file)', () => {
  it('lower-cases, turns punctuation into spaces and reads "an", "grey", "centre" as the grammar\'s words', () => {
    expect(normalizeWords('An Orange Circle, in the Centre; on a GREY background.', file)).toEqual(
      'a orange circle in the center on a gray background'.split(' '),
    );
    expect(normalizeWords('  a small\tred\nsquare at the top-left!  ', file)).toEqual('a small red square at the top left'.split(' '));
  });

  it('gives the same token ids as the plain grammar', () => {
    const plain = 'a large red circle in the center on a orange background';
    for (const variant of ['A large red circle in the center on an orange background.', 'a LARGE red circle, in the center, on an Orange background!']) {
      expect(tokenizer.encode(variant)).toEqual(tokenizer.encode(plain));
    }
  });

  it('offers the words a prompt may use, aliases included, so an editor does not flag "an"', () => {
    expect(tokenizer.accepted).toEqual(expect.arrayContaining(['a', 'an', 'centre', 'grey', 'circle']));
    expect(tokenizer.accepted).not.toContain('<pad>');
    for (const word of tokenizer.accepted) expect(() => tokenizer.encode(word)).not.toThrow();
  });

  it('still names every unknown word after normalising, and prototype names are just unknown words', () => {
    expect(() => tokenizer.encode('A purple Dragon.')).toThrow("unknown word 'dragon' for model 'tiny-shapes'");
    expect(() => tokenizer.encode('constructor toString __proto__')).toThrow("unknown words 'constructor', 'tostring', 'proto'");
  });

  it('an alias table with prototype keys maps only its own entries', () => {
    const hostile = { ...file, aliases: JSON.parse('{"__proto__": "a", "constructor": "a", "an": "a"}') as Record<string, string> };
    expect(normalizeWords('an constructor tostring', hostile)).toEqual(['a', 'a', 'tostring']);
    expect(normalizeWords('an', { ...file, aliases: undefined })).toEqual(['an']);
  });
});
