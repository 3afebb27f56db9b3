import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isLfsPointerText, lfsPointerProblem } from './lfs-pointer';

/** The bundle format this runtime knows; a bundle names its format, the registry maps it to an adapter. */
export const UNIFIED_AR_FORMAT = 'picflow.unified-ar';
export const UNIFIED_AR_VERSION = 1;

const tensorInfo = z.object({
  name: z.string().min(1),
  dtype: z.enum(['uint8', 'int64', 'float32']),
  shape: z.array(z.union([z.int(), z.string()])),
});

const graph = z.object({ file: z.string().min(1), inputs: z.array(tensorInfo), outputs: z.array(tensorInfo) });

const segment = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('token'), token: z.string() }),
  z.object({ kind: z.literal('text'), name: z.string(), length: z.int().positive(), eos: z.string().optional() }),
  z.object({ kind: z.literal('image'), name: z.string() }),
]);

const task = z.object({
  layout: z.array(segment).min(1),
  /** Names of the layout segments that receive the caller's text / image and that the model produces. */
  text: z.string().optional(),
  image: z.string().optional(),
  output: z.string().optional(),
  guidance: z.boolean().optional(),
  reduce: z.literal('exp-mean-logprob').optional(),
});

const range = z.tuple([z.int().nonnegative(), z.int().nonnegative()]);

const sampling = z.object({
  cfg: z.number().positive(),
  cfgMinRatio: z.number().min(0).max(1),
  temperature: z.number().min(0),
  topK: z.int().min(0),
  topP: z.number().gt(0).max(1),
});

export const unifiedArManifest = z.object({
  format: z.literal(UNIFIED_AR_FORMAT),
  formatVersion: z.literal(UNIFIED_AR_VERSION),
  name: z.string().min(1),
  description: z.string().default(''),
  tasks: z.object({ generate: task.optional(), edit: task.optional(), caption: task.optional(), score: task.optional() }),
  image: z.object({
    width: z.int().positive(),
    height: z.int().positive(),
    channels: z.literal(3),
    tokens: z.int().positive(),
    codes: z.int().positive(),
    vocabOffset: z.int().nonnegative(),
    /** Consecutive groups of image slots and the code range each may take. */
    slots: z.array(z.object({ count: z.int().positive(), codes: range })).min(1),
  }),
  vocab: z.object({
    size: z.int().positive(),
    file: z.string().min(1),
    specials: z.record(z.string(), z.int().nonnegative()),
    wordRange: range,
  }),
  graphs: z.object({
    encoder: graph,
    decoder: graph,
    transformer: graph.extend({
      roles: z.object({ tokens: z.string(), positions: z.string(), cells: z.string(), logits: z.string() }),
      kvCache: z.object({
        layers: z.int().positive(),
        heads: z.int().positive(),
        headDim: z.int().positive(),
        dtype: z.literal('float32'),
        pastKey: z.string().includes('{layer}'),
        pastValue: z.string().includes('{layer}'),
        presentKey: z.string().includes('{layer}'),
        presentValue: z.string().includes('{layer}'),
        /** Outputs of only the positions a run was fed (the new half of each present), when the graph has them: the runtime then keeps the cache itself. */
        newKey: z.string().includes('{layer}').optional(),
        newValue: z.string().includes('{layer}').optional(),
      }).refine((kv) => (kv.newKey === undefined) === (kv.newValue === undefined), { message: 'newKey and newValue come together', path: ['newKey'] }),
    }),
  }),
  defaults: z.object({
    generate: sampling.optional(),
    edit: sampling.optional(),
    caption: z.object({ temperature: z.number().min(0), maxTokens: z.int().positive() }).optional(),
  }),
  training: z.unknown().optional(),
  metrics: z.unknown().optional(),
});

export type UnifiedArManifest = z.output<typeof unifiedArManifest>;
export type TaskName = keyof UnifiedArManifest['tasks'];
export type TaskSpec = z.output<typeof task>;
export type Segment = z.output<typeof segment>;
export type GraphSpec = z.output<typeof graph>;
export type SamplingDefaults = z.output<typeof sampling>;

export const tokenizerFile = z.object({
  type: z.literal('word'),
  lowercase: z.boolean(),
  stripPattern: z.string(),
  /** Words read as another word of the vocabulary before lookup (e.g. "an" as "a"); optional. */
  aliases: z.record(z.string(), z.string()).optional(),
  vocab: z.array(z.string()).min(1),
  wordRange: range,
});
export type TokenizerFile = z.output<typeof tokenizerFile>;

/** A bundle problem, always naming the bundle folder. */
export class BundleError extends Error {
  constructor(
    dir: string,
    /** What is wrong, without the folder (for lists of a folder's problems). */
    readonly problem: string,
  ) {
    super(`model bundle ${dir}: ${problem}`);
    this.name = 'BundleError';
  }
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** A small JSON file of a model folder; errors name the folder and the file. */
export function readJson(dir: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BundleError(dir, code === 'ENOENT' ? `missing file ${file}` : `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    if (isLfsPointerText(text)) throw new BundleError(dir, lfsPointerProblem(file, dir));
    throw new BundleError(dir, `${file} is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Reads and validates a bundle's manifest and tokenizer (small files, read synchronously so that
 * validation can ask what a model can do); graph files are checked when sessions load.
 */
export function readBundle(dir: string): { manifest: UnifiedArManifest; tokenizer: TokenizerFile } {
  const raw = readJson(dir, 'manifest.json');
  const head = z.object({ format: z.string(), formatVersion: z.number() }).safeParse(raw);
  if (!head.success) throw new BundleError(dir, 'manifest.json has no format id (fields `format`, `formatVersion`)');
  if (head.data.format !== UNIFIED_AR_FORMAT || head.data.formatVersion !== UNIFIED_AR_VERSION) {
    throw new BundleError(
      dir,
      `unsupported format '${head.data.format}' version ${head.data.formatVersion} (this runtime reads '${UNIFIED_AR_FORMAT}' version ${UNIFIED_AR_VERSION})`,
    );
  }
  const parsed = unifiedArManifest.safeParse(raw);
  if (!parsed.success) throw new BundleError(dir, `invalid manifest.json: ${issues(parsed.error)}`);
  const tok = tokenizerFile.safeParse(readJson(dir, parsed.data.vocab.file));
  if (!tok.success) throw new BundleError(dir, `invalid ${parsed.data.vocab.file}: ${issues(tok.error)}`);
  if (tok.data.vocab.length !== parsed.data.vocab.size) {
    throw new BundleError(dir, `tokenizer has ${tok.data.vocab.length} tokens but the manifest says ${parsed.data.vocab.size}`);
  }
  return { manifest: parsed.data, tokenizer: tok.data };
}
