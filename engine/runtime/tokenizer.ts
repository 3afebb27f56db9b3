import type { TokenizerFile } from './manifest';

/** A word-level tokenizer read from a bundle's tokenizer file; errors name unknown words and list the vocabulary. */
export class WordTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly strip: RegExp;
  readonly words: readonly string[];

  constructor(
    private readonly file: TokenizerFile,
    private readonly model: string,
  ) {
    file.vocab.forEach((token, id) => this.ids.set(token, id));
    this.strip = new RegExp(file.stripPattern, 'g');
    this.words = file.vocab.slice(file.wordRange[0], file.wordRange[1]);
  }

  /** Token ids of a text's words; throws listing every unknown word. */
  encode(text: string): number[] {
    const normal = this.file.lowercase ? text.toLowerCase() : text;
    const words = normal.replace(this.strip, ' ').split(/\s+/).filter(Boolean);
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
