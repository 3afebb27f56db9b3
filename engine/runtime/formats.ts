import type { TaskName } from './manifest';
import type { ImageModel } from './model';
import type { DeviceQueue } from './queue';
import type { SessionManager } from './sessions';

/** What an adapter is built with: the runtime's shared session manager and device queue. */
export interface AdapterHost {
  sessions: SessionManager;
  queue: DeviceQueue;
  /** Most rows that calls of different runs share in one batched model call (adapters that batch). */
  batchRows: number;
}

/** The words a model's tokenizer takes, so validation can name an unknown word where it was typed. */
export interface Vocabulary {
  words: readonly string[];
  /** The tokenizer's own complaint about a text (unknown words), or null when it takes it. */
  problem(text: string): string | null;
}

/** A model folder as its format read it: what it can do, before anything is loaded. */
export interface FoundModel {
  name: string;
  dir: string;
  /** e.g. `picflow.unified-ar`, `transformers.js/multi_modality`. */
  format: string;
  description: string;
  tasks: readonly TaskName[];
  /** The weights' precision the adapter loads (fp32, fp16, q8, q4f16…), when the format has a choice. */
  dtype?: string;
  vocabulary?: Vocabulary;
  /** The adapter; the runtime makes one per model and shares it. Its code (onnxruntime, transformers.js) is imported here, not before. */
  create(host: AdapterHost): Promise<ImageModel>;
  /** A deep check of the folder: every missing or mismatched file, each named (empty when sound). */
  inspect(host: AdapterHost): Promise<string[]>;
}

/** A model folder format: recognised by its marker file, read into a FoundModel (throws naming the bad file). */
export interface ModelFormat {
  marker: string;
  /** What the marker marks, for messages (e.g. 'a Hugging Face ONNX export'). */
  kind: string;
  read(dir: string, name: string): FoundModel;
}

/** A task the adapter does not have: the same words as validation uses. */
export function cannot(model: { name: string; tasks: readonly TaskName[] }, task: TaskName): Error {
  return new Error(`model '${model.name}' cannot ${task}: it supports ${model.tasks.join(', ')}`);
}
