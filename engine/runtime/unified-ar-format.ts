import type { ModelFormat } from './formats';
import { readBundle, UNIFIED_AR_FORMAT, type TaskName } from './manifest';
import { WordTokenizer } from './tokenizer';

/** picflow's own bundles (tiny-shapes): a manifest.json naming the graphs, a word tokenizer. */
export const unifiedArFormat: ModelFormat = {
  marker: 'manifest.json',
  kind: 'a picflow bundle',
  read(dir, name) {
    const { manifest, tokenizer } = readBundle(dir);
    const bundle = { name, dir, manifest, tokenizer };
    const words = new WordTokenizer(tokenizer, name);
    return {
      name,
      dir,
      format: UNIFIED_AR_FORMAT,
      description: manifest.description,
      tasks: (Object.keys(manifest.tasks) as TaskName[]).filter((t) => manifest.tasks[t]),
      vocabulary: {
        words: words.accepted,
        // the tokenizer's own normalisation and message, so validation and runs agree
        problem(text) {
          try {
            words.encode(text);
            return null;
          } catch (err) {
            return (err as Error).message;
          }
        },
      },
      // onnxruntime comes with the adapter, when the model is first used
      create: async (host) => new (await import('./unified-ar')).UnifiedArModel(bundle, host),
      inspect: async (host) => (await import('./bundle-sessions')).inspectBundle(bundle, host.sessions),
    };
  },
};
