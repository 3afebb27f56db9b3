import type { ImageValue } from '../image';
import type { TaskName } from './manifest';
import type { SamplingParams } from './sampling';

export interface GenerateOptions extends Partial<SamplingParams> {
  seed?: number;
  /** Images to produce (each its own random stream). */
  count?: number;
  /** Replaces the empty prompt of the unconditional rows when guided. */
  negative?: string;
}

export interface CaptionOptions {
  maxTokens?: number;
  /** 0 = greedy. */
  temperature?: number;
  seed?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Every sampling step (and each graph while the bundle loads). */
  onProgress?: (step: number, total: number) => void;
  /** Benchmarks only: false recomputes the whole sequence every step instead of using the KV cache. */
  kvCache?: boolean;
}

/** Time of the last call: inside `session.run` versus all of it (the rest is ours). */
export interface CallStats {
  wallMs: number;
  runMs: number;
  runs: number;
}

/** What model nodes see: tasks, never sessions or tensors. */
export interface ImageModel {
  readonly name: string;
  readonly tasks: readonly TaskName[];
  readonly size: { width: number; height: number };
  readonly lastStats: CallStats;
  generate(prompt: string, options?: GenerateOptions, call?: CallOptions): Promise<ImageValue[]>;
  edit(image: ImageValue, instruction: string, options?: GenerateOptions, call?: CallOptions): Promise<ImageValue[]>;
  caption(image: ImageValue, options?: CaptionOptions, call?: CallOptions): Promise<string>;
  score(image: ImageValue, text: string, call?: CallOptions): Promise<number>;
  /** Several images against one text in one batch (same numbers as `score` one by one). */
  scoreBatch(images: readonly ImageValue[], text: string, call?: CallOptions): Promise<number[]>;
}

