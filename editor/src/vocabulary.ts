// The words a model's prompts may use, as `GET /api/models` publishes them (`vocabulary?: string[]`
// per model; a model without one takes any text). Prompt widgets complete from it and mark the
// words the model would refuse, normalised as the tiny model's tokenizer does (lowercase, letters).

/** A model's words; null when it takes any text. */
export type Vocabulary = ReadonlySet<string> | null;

/** The vocabularies in a `GET /api/models` answer, by model name (hostile keys are only map keys). */
export function vocabulariesOf(report: unknown): Map<string, Vocabulary> {
  const result = new Map<string, Vocabulary>();
  const models = (report as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return result;
  for (const model of models) {
    const { name, vocabulary } = (model ?? {}) as { name?: unknown; vocabulary?: unknown };
    if (typeof name !== 'string') continue;
    const words = Array.isArray(vocabulary) ? vocabulary.filter((w): w is string => typeof w === 'string' && /^[a-z]+$/.test(w)) : null;
    result.set(name, words && words.length > 0 ? new Set(words) : null);
  }
  return result;
}

/**
 * The words a prompt may use: the named model's, or, for a prompt that names none, those every
 * model knows (null as soon as one model takes any text, or none is known).
 */
export function vocabularyFor(all: Map<string, Vocabulary>, model?: string): Vocabulary {
  if (model !== undefined) return all.get(model) ?? null;
  if (all.size === 0) return null;
  const union = new Set<string>();
  for (const words of all.values()) {
    if (!words) return null;
    for (const w of words) union.add(w);
  }
  return union;
}

/** A prompt's words as the tokenizer sees them: lowercase, letters only. */
export function promptWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z\s]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** The distinct words of a prompt the vocabulary lacks, in order. */
export function unknownWords(text: string, vocabulary: Vocabulary): string[] {
  if (!vocabulary) return [];
  return [...new Set(promptWords(text).filter((w) => !vocabulary.has(w)))];
}

/** Words of the vocabulary that complete a prefix (not the prefix itself), shortest first. */
export function completions(prefix: string, vocabulary: Vocabulary, limit = 8): string[] {
  const p = prefix.toLowerCase();
  if (!vocabulary || !p) return [];
  return [...vocabulary]
    .filter((w) => w.startsWith(p) && w !== p)
    .sort((a, b) => a.length - b.length || a.localeCompare(b))
    .slice(0, limit);
}
