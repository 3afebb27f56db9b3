import type { TokenizerFile } from './manifest';

/**
 * The words a prompt becomes before lookup, as the bundle's tokenizer file says: lower-cased (when
 * `lowercase`), every match of `stripPattern` (punctuation, digits) turned into a space, split on
 * whitespace, and each word replaced by its `aliases` entry ("an" → "a", "grey" → "gray") when it
 * has one. Exported so a vocabulary check sees exactly the words the model will.
 */
export function normalizeWords(text: string, file: Pick<TokenizerFile, 'lowercase' | 'stripPattern' | 'aliases'>): string[] {
  const cased = file.lowercase ? text.toLowerCase() : text;
  const aliases = new Map(Object.entries(file.aliases ?? {}));
  return cased
    .replace(new RegExp(file.stripPattern, 'g'), ' ')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => aliases.get(w) ?? w);
}

/** A word-level tokenizer read from a bundle's tokenizer file; errors name unknown words and list the vocabulary. */
export class WordTokenizer {
  private readonly ids = new Map<string, number>();
  readonly words: readonly string[];
  /** The words a prompt may use: the vocabulary's, and the aliases that stand for them ("an"). */
  readonly accepted: readonly string[];

  constructor(
    private readonly file: TokenizerFile,
    private readonly model: string,
  ) {
    file.vocab.forEach((token, id) => this.ids.set(token, id));
    this.words = file.vocab.slice(file.wordRange[0], file.wordRange[1]);
    const known = new Set(this.words);
    const aliases = Object.entries(file.aliases ?? {}).filter(([, word]) => known.has(word));
    this.accepted = [...this.words, ...aliases.map(([alias]) => alias).filter((alias) => !known.has(alias))];
  }

  /** Token ids of a text's words (normalizeWords); throws listing every unknown word. */
  encode(text: string): number[] {
    const words = normalizeWords(text, this.file);
    const [lo, hi] = this.file.wordRange;
    const unknown = words.filter((w) => {
      const id = this.ids.get(w);
      return id === undefined || id < lo || id >= hi;
    });
    if (unknown.length > 0) {
      const list = [...new Set(unknown)].map((w) => `'${w}'`).join(', ');
      throw new Error(`unknown word${unknown.length > 1 ? 's' : ''} ${list} for model '${this.model}'; it knows: ${this.words.join(', ')}`);
    }
    return words.map((w) => this.ids.get(w)!);
  }

  id(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined) throw new Error(`model '${this.model}' has no token '${token}'`);
    return id;
  }

  token(id: number): string {
    return this.file.vocab[id] ?? `<${id}>`;
  }
}
