import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { env, RawImage } from '@huggingface/transformers';
import type * as ort from 'onnxruntime-node';
import { makeImage, type ImageValue } from '../image';
import { BundleError } from './manifest';
import type { CallStats } from './model';
import type { Loader, SessionManager } from './sessions';

// Models come from the models folder only: nothing is fetched while a workflow runs (`picflow models pull` downloads).
env.allowRemoteModels = false;
env.allowLocalModels = true;

/**
 * Serves the folder's files to transformers.js through its custom-cache hook. Left to itself, it opens
 * each local file as a FileResponse, whose constructor starts streaming the whole file into a body that
 * is never read (ONNX graphs are handed to onnxruntime by path, the other files are read again with
 * readFile): every graph is read twice, and a copy of it sits in memory until collected, while the
 * first calls run. Here graphs (and external data) are answered with their path, other files with one
 * read. transformers.js asks by local path first, then, on a hit, again by the hub URL it would have
 * downloaded from (`<remoteHost><model dir>/resolve/<revision>/<file>`), which maps back to that path.
 */
const localFiles = {
  async match(key: string): Promise<string | Response | undefined> {
    const path = existsSync(key) ? key : hubKeyPath(key);
    if (!path) return undefined;
    if (/\.onnx(_data(_\d+)?)?$/.test(path)) return path;
    return new Response(await readFile(path));
  },
  async put(): Promise<void> {},
};

function hubKeyPath(key: string): string | undefined {
  if (!key.startsWith(env.remoteHost)) return undefined;
  const parts = key.slice(env.remoteHost.length).match(/^(.*)\/resolve\/[^/]+\/(.+)$/);
  const path = parts && `/${parts[1]}/${parts[2]}`;
  return path && existsSync(path) ? path : undefined;
}
env.useCustomCache = true;
env.customCache = localFiles;

/** A loaded transformers.js model: its ONNX sessions (by transformers.js' names) and a way to free them. */
export interface LoadedHf {
  sessions: Record<string, ort.InferenceSession>;
  dispose(): Promise<unknown>;
}

/**
 * Times session.run of a loaded model's sessions: transformers.js calls `session.run` itself, so
 * each session's `run` is wrapped once, right after loading, to add to the current call's stats.
 */
export class RunClock {
  private runMs = 0;
  private runs = 0;
  private start = 0;

  instrument(sessions: Record<string, ort.InferenceSession>): void {
    for (const session of Object.values(sessions)) {
      const run = session.run.bind(session) as (...args: unknown[]) => Promise<ort.InferenceSession.ReturnType>;
      const clock = this;
      Object.defineProperty(session, 'run', {
        value: async (...args: unknown[]) => {
          const t = performance.now();
          try {
            return await run(...args);
          } finally {
            clock.runMs += performance.now() - t;
            clock.runs++;
          }
        },
      });
    }
  }

  reset(): void {
    this.runMs = 0;
    this.runs = 0;
    this.start = performance.now();
  }

  stats(): CallStats {
    return { wallMs: performance.now() - this.start, runMs: this.runMs, runs: this.runs };
  }
}

/**
 * The loader of a transformers.js model: checks the files first (so a missing graph or a Git LFS
 * pointer is named, not reported as a fetch or a protobuf error), loads, counts and times each
 * session, and explains a failed load by inspecting the graphs one by one.
 */
export function hfLoader<M extends LoadedHf, X>(options: {
  name: string;
  dir: string;
  files: readonly string[];
  check: () => string[];
  sessions: SessionManager;
  clock: RunClock;
  load: () => Promise<{ model: M; extra: X }>;
  inspect: () => Promise<string[]>;
}): Loader<{ model: M; extra: X }> {
  const { name, dir, files, sessions, clock } = options;
  return {
    name,
    async load(onLoad) {
      const fileIssues = options.check();
      if (fileIssues.length > 0) throw new BundleError(dir, fileIssues.join('; '));
      let loaded: { model: M; extra: X };
      try {
        loaded = await options.load();
      } catch (err) {
        const problems = await options.inspect();
        throw new BundleError(dir, problems.length > 0 ? problems.join('; ') : (err as Error).message);
      }
      const graphs = Object.keys(loaded.model.sessions);
      graphs.forEach((graph, i) => {
        sessions.countCreated(name, graph);
        onLoad?.(i + 1, graphs.length);
      });
      clock.instrument(loaded.model.sessions);
      return loaded;
    },
    async release(loaded) {
      await loaded.model.dispose();
    },
    // the graph files' size (external data included: a large export's weights are there), doubled for the runtime's own copies and arenas
    async bytes() {
      return 2 * files.filter((f) => f.startsWith('onnx/')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    },
  };
}

export function toRawImage(image: ImageValue): RawImage {
  return new RawImage(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height, image.channels);
}

/** A decoded image as picflow's value, on the same pixels (transformers.js made them for this call alone). */
export function fromRawImage(raw: RawImage): ImageValue {
  const rgb = raw.channels === 3 ? raw : raw.rgb();
  return makeImage(rgb.width, rgb.height, 3, new Uint8Array(rgb.data.buffer, rgb.data.byteOffset, rgb.data.length));
}
