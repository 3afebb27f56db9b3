// What a Hugging Face export's folder holds (dtype suffixes, graph files and their I/O), readable without
// transformers.js or onnxruntime: the registry and validation use it; the adapters load the heavy code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { BundleError, readJson } from './manifest';
import type { SessionManager } from './sessions';

/** transformers.js' file-name suffix per dtype (`onnx/<graph><suffix>.onnx`). */
export const DTYPE_SUFFIX: Readonly<Record<string, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** picflow's own settings beside a downloaded export (written by `picflow models pull`). */
const SETTINGS_FILE = 'picflow.json';

/**
 * The dtype a folder is loaded in: `picflow.json`'s `dtype` when set, else the first of fp32, fp16,
 * q8, q4f16, q4 whose graph files are all there (fp32 when none is complete, so the error names fp32's files).
 */
export function folderDtype(dir: string, graphs: readonly string[]): string {
  if (existsSync(join(dir, SETTINGS_FILE))) {
    const settings = readJson(dir, SETTINGS_FILE) as { dtype?: unknown };
    if (settings.dtype !== undefined) {
      if (typeof settings.dtype !== 'string' || !(settings.dtype in DTYPE_SUFFIX)) {
        throw new BundleError(dir, `${SETTINGS_FILE}: dtype must be one of ${Object.keys(DTYPE_SUFFIX).join(', ')}`);
      }
      return settings.dtype;
    }
  }
  const complete = (dtype: string) => graphs.every((g) => existsSync(join(dir, graphFile(g, dtype))));
  return ['fp32', 'fp16', 'q8', 'q4f16', 'q4'].find(complete) ?? 'fp32';
}

export function graphFile(graph: string, dtype: string): string {
  return `onnx/${graph}${DTYPE_SUFFIX[dtype]}.onnx`;
}

/** The folder's files a format needs: every one missing is named. */
export function missingFiles(dir: string, files: readonly string[]): string[] {
  return files.filter((f) => !existsSync(join(dir, f))).map((f) => `missing file ${f}`);
}

/** Graph I/O a layout needs (a subset: exports may carry more outputs). */
export interface GraphIo {
  inputs: readonly string[];
  outputs: readonly string[];
}

/** Opens each graph alone and names every one that does not load or lacks a needed input or output. */
export async function inspectGraphs(
  dir: string,
  graphs: Readonly<Record<string, GraphIo>>,
  dtype: string,
  sessions: SessionManager,
): Promise<string[]> {
  const ortModule = await import('onnxruntime-node');
  const problems: string[] = [];
  for (const [graph, io] of Object.entries(graphs)) {
    const file = graphFile(graph, dtype);
    if (!existsSync(join(dir, file))) {
      problems.push(`missing graph file ${file}`);
      continue;
    }
    let session: ort.InferenceSession;
    try {
      session = await ortModule.InferenceSession.create(join(dir, file), sessions.sessionOptions());
    } catch (err) {
      problems.push(`cannot load ${file}: ${(err as Error).message}`);
      continue;
    }
    const lacking = [
      ...io.inputs.filter((n) => !session.inputNames.includes(n)).map((n) => `input '${n}'`),
      ...io.outputs.filter((n) => !session.outputNames.includes(n)).map((n) => `output '${n}'`),
    ];
    if (lacking.length > 0) problems.push(`${file} has no ${lacking.join(', ')} (it has inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}])`);
    await session.release();
  }
  return problems;
}

