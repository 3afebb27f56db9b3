import type { AdapterHost, ModelFormat } from './formats';
import { fileProblems, folderDtype, graphFiles, graphProblems, inspectGraphs, jsonFileProblems, type GraphIo } from './hf-files';
import type { HfFound } from './hf-model';
import { BundleError, readJson, type TaskName } from './manifest';
import type { ImageModel } from './model';

// Only the folder's description lives here; the adapters (transformers.js, onnxruntime, sharp) are imported when a
// model is first created, so finding and validating models costs none of them.

type Json = Record<string, unknown>;

/** One `model_type` that picflow runs through transformers.js. */
interface HfAdapter {
  description: string;
  tasks: readonly TaskName[];
  /** Config, processor and tokenizer files the layout has besides its graphs. */
  files: readonly string[];
  graphs(config: Json, dir: string): Record<string, GraphIo>;
  imageSize(preprocessor: Json): unknown;
  create(found: HfFound, host: AdapterHost): Promise<ImageModel>;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/** The six graphs of onnx-community's Janus / Janus-Pro exports and the I/O transformers.js uses. */
function janusGraphs(layers: number): Record<string, GraphIo> {
  const kv = (prefix: string) => Array.from({ length: layers }, (_, i) => [`${prefix}.${i}.key`, `${prefix}.${i}.value`]).flat();
  return {
    prepare_inputs_embeds: { inputs: ['input_ids', 'pixel_values', 'images_seq_mask', 'images_emb_mask'], outputs: ['inputs_embeds'] },
    language_model: { inputs: ['inputs_embeds', 'attention_mask', ...kv('past_key_values')], outputs: kv('present') },
    lm_head: { inputs: [], outputs: ['logits'] },
    gen_head: { inputs: [], outputs: ['logits'] },
    gen_img_embeds: { inputs: ['image_ids'], outputs: ['inputs_embeds'] },
    image_decode: { inputs: ['generated_tokens'], outputs: ['decoded_image'] },
  };
}

/** The combined graph of Xenova's CLIP / SigLIP exports (`onnx/model.onnx`) and the I/O this adapter uses. */
function dualEncoderGraphs(kind: 'clip' | 'siglip'): Record<string, GraphIo> {
  const inputs = kind === 'clip' ? ['input_ids', 'pixel_values', 'attention_mask'] : ['input_ids', 'pixel_values'];
  return { model: { inputs, outputs: ['logits_per_image', 'text_embeds', 'image_embeds'] } };
}

const janus: HfAdapter = {
  description: 'Janus / Janus-Pro unified model (text-to-image and image understanding) via transformers.js',
  tasks: ['generate', 'caption', 'score'],
  files: ['config.json', 'generation_config.json', 'preprocessor_config.json', 'processor_config.json', ...TOKENIZER_FILES],
  graphs(config, dir) {
    const layers = (config.language_config as Json | undefined)?.num_hidden_layers;
    if (!Number.isInteger(layers) || (layers as number) < 1) {
      throw new BundleError(dir, 'config.json: language_config.num_hidden_layers must be a positive integer');
    }
    return janusGraphs(layers as number);
  },
  imageSize: (p) => p.image_size,
  create: async (found, host) => new (await import('./janus')).JanusModel(found, host),
};

const dualEncoder = (kind: 'clip' | 'siglip'): HfAdapter => ({
  description: `${kind === 'clip' ? 'CLIP' : 'SigLIP'} image-text reward model via transformers.js`,
  tasks: ['score'],
  files: ['config.json', 'preprocessor_config.json', ...TOKENIZER_FILES],
  graphs: () => dualEncoderGraphs(kind),
  imageSize: (p) => (p.crop_size as Json | undefined)?.height ?? (p.size as Json | undefined)?.height ?? (p.size as Json | undefined)?.shortest_edge,
  create: async (found, host) => new (await import('./clip-scorer')).DualEncoderScorer(found, kind, host),
});

/** `config.json`'s `model_type` → its adapter. Adding a model family is one adapter and one entry here. */
const ADAPTERS = new Map<string, HfAdapter>([
  ['multi_modality', janus],
  ['clip', dualEncoder('clip')],
  ['siglip', dualEncoder('siglip')],
]);

function object(dir: string, file: string): Json {
  const value = readJson(dir, file);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BundleError(dir, `${file} is not a JSON object`);
  return value as Json;
}

/** Hugging Face ONNX exports (onnx-community, Xenova): a config.json whose model_type picks the adapter. */
export const hfFormat: ModelFormat = {
  marker: 'config.json',
  kind: 'a Hugging Face ONNX export',
  read(dir, name) {
    const config = object(dir, 'config.json');
    const type = config.model_type;
    const adapter = typeof type === 'string' ? ADAPTERS.get(type) : undefined;
    if (!adapter) {
      throw new BundleError(dir, `config.json: model_type ${JSON.stringify(type ?? null)} is not one picflow runs (it runs: ${[...ADAPTERS.keys()].join(', ')})`);
    }
    const graphs = adapter.graphs(config, dir);
    const imageSize = adapter.imageSize(object(dir, 'preprocessor_config.json'));
    if (!Number.isInteger(imageSize) || (imageSize as number) < 1) throw new BundleError(dir, 'preprocessor_config.json: no image size');
    const graphNames = Object.keys(graphs);
    const dtype = folderDtype(dir, graphNames);
    const found: HfFound = {
      name,
      dir,
      format: `transformers.js/${type}`,
      description: adapter.description,
      tasks: adapter.tasks,
      dtype,
      imageSize: imageSize as number,
      files: [...adapter.files, ...graphNames.flatMap((g) => graphFiles(dir, g, dtype))],
      create: (host) => adapter.create(found, host),
      check: () => [...fileProblems(dir, adapter.files), ...graphNames.flatMap((g) => graphProblems(dir, g, dtype))],
      inspect: async (host) => [...jsonFileProblems(dir, adapter.files), ...(await inspectGraphs(dir, graphs, dtype, host.sessions))],
    };
    return found;
  },
};
