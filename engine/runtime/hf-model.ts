import type { ImageValue } from '../image';
import { cannot, type AdapterHost, type FoundModel } from './formats';
import type { CallOptions, CallStats, CaptionOptions, GenerateOptions, ImageModel } from './model';
import type { Loader } from './sessions';
import { hfLoader, RunClock, type LoadedHf } from './transformers-js';

/** A Hugging Face export as its format read it, before loading. */
export type HfFound = FoundModel & {
  dtype: string;
  imageSize: number;
  /** The files it loads: config, processor, tokenizer, and the graphs of its dtype with their external data. */
  files: readonly string[];
  /** A quick check of those files (missing, Git LFS pointers), each problem named; empty when they are there. */
  check(): string[];
};

/** What transformers.js' from_pretrained gets for a model of the runtime: local files only, its dtype, provider and threads. */
export function pretrainedOptions(found: HfFound, host: AdapterHost) {
  return {
    local_files_only: true,
    dtype: found.dtype as 'fp32',
    device: host.sessions.provider.provider,
    session_options: host.sessions.sessionOptions(),
  } as const;
}

/**
 * What every transformers.js adapter shares: one load through the session manager (files checked,
 * sessions counted and timed), each call one job on the device queue, and the tasks it lacks refused.
 */
export abstract class HfModel<M extends LoadedHf, X> implements ImageModel {
  readonly name: string;
  readonly tasks: FoundModel['tasks'];
  readonly size: { width: number; height: number };
  lastStats: CallStats = { wallMs: 0, runMs: 0, runs: 0 };
  private readonly loader: Loader<{ model: M; extra: X }>;
  private readonly clock = new RunClock();

  constructor(
    found: HfFound,
    private readonly host: AdapterHost,
    load: () => Promise<{ model: M; extra: X }>,
  ) {
    this.name = found.name;
    this.tasks = found.tasks;
    this.size = { width: found.imageSize, height: found.imageSize };
    this.loader = hfLoader({ ...found, sessions: host.sessions, clock: this.clock, load, inspect: () => found.inspect(host) });
  }

  generate(_prompt: string, _options?: GenerateOptions, _call?: CallOptions): Promise<ImageValue[]> {
    return Promise.reject(cannot(this, 'generate'));
  }

  edit(): Promise<ImageValue[]> {
    return Promise.reject(cannot(this, 'edit'));
  }

  caption(_image: ImageValue, _options?: CaptionOptions, _call?: CallOptions): Promise<string> {
    return Promise.reject(cannot(this, 'caption'));
  }

  score(image: ImageValue, text: string, call: CallOptions = {}): Promise<number> {
    return this.scoreBatch([image], text, call).then(([s]) => s);
  }

  abstract scoreBatch(images: readonly ImageValue[], text: string, call?: CallOptions): Promise<number[]>;

  /** One job on the device queue with the model loaded; records the call's timing. */
  protected job<T>(call: CallOptions, fn: (loaded: { model: M; extra: X }) => Promise<T>): Promise<T> {
    const work = () =>
      this.host.sessions.use(
        this.loader,
        async (loaded) => {
          this.clock.reset();
          try {
            return await fn(loaded);
          } finally {
            this.lastStats = this.clock.stats();
          }
        },
        call.onProgress,
      );
    return this.host.queue.run(work, call.signal);
  }
}
