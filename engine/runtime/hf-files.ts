// What a Hugging Face export's folder holds (dtype suffixes, graph files and their I/O), readable without
// transformers.js or onnxruntime: the registry and validation use it; the adapters load the heavy code.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { isLfsPointer, lfsPointerProblem } from './lfs-pointer';
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

/** A graph's files in one dtype: the .onnx and, beside it, the external data files of a large export (`.onnx_data`, `_1`…). */
export function graphFiles(dir: string, graph: string, dtype: string): string[] {
  const file = graphFile(graph, dtype);
  const data = new RegExp(`^${file.slice('onnx/'.length).replace(/\./g, '\\.')}_data(_\\d+)?$`);
  const onnxDir = join(dir, 'onnx');
  const beside = existsSync(onnxDir) ? readdirSync(onnxDir).filter((f) => data.test(f)).sort() : [];
  return [file, ...beside.map((f) => `onnx/${f}`)];
}

/** What is wrong with one file a folder needs, naming what to do; undefined when it is there. */
function fileProblem(dir: string, file: string): string | undefined {
  if (!existsSync(join(dir, file))) return `missing file ${file}`;
  if (isLfsPointer(join(dir, file))) return lfsPointerProblem(file, dir);
  return undefined;
}

/** Every problem with the files of the given names (config, processor, tokenizer). */
export function fileProblems(dir: string, files: readonly string[]): string[] {
  return files.flatMap((f) => fileProblem(dir, f) ?? []);
}

/**
 * As fileProblems, and each JSON file that is there must parse: a damaged tokenizer.json otherwise
 * fails inside transformers.js with a JSON.parse message that names no file. For the deep check only.
 */
export function jsonFileProblems(dir: string, files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const problem = fileProblem(dir, file);
    if (problem || !file.endsWith('.json')) return problem ?? [];
    try {
      readJson(dir, file);
      return [];
    } catch (err) {
      return (err as BundleError).problem;
    }
  });
}

/**
 * What is wrong with one graph's files in `dtype`. A missing graph names the dtypes the folder has
 * it in: an export copied by hand often mixes precisions, and picflow loads every graph in one.
 */
export function graphProblems(dir: string, graph: string, dtype: string): string[] {
  const file = graphFile(graph, dtype);
  if (!existsSync(join(dir, file))) {
    const others = Object.keys(DTYPE_SUFFIX).filter((d) => d !== dtype && existsSync(join(dir, graphFile(graph, d))));
    const hint = others.length > 0 ? ` (the folder has it as ${others.map((d) => graphFile(graph, d)).join(', ')}; all graphs load in one dtype, here ${dtype}: add this file, or set "dtype" in ${SETTINGS_FILE} to one whose graphs are all there)` : '';
    return [`missing graph file ${file}${hint}`];
  }
  return fileProblems(dir, graphFiles(dir, graph, dtype));
}

/** Graph I/O a layout needs (a subset: exports may carry more outputs). */
export interface GraphIo {
  inputs: readonly string[];
  outputs: readonly string[];
}

/** Opens each graph alone and names every one that is missing, does not load, or lacks a needed input or output. */
export async function inspectGraphs(
  dir: string,
  graphs: Readonly<Record<string, GraphIo>>,
  dtype: string,
  sessions: SessionManager,
): Promise<string[]> {
  const ortModule = await import('onnxruntime-node');
  const problems: string[] = [];
  for (const [graph, io] of Object.entries(graphs)) {
    const fileIssues = graphProblems(dir, graph, dtype);
    if (fileIssues.length > 0) {
      problems.push(...fileIssues);
      continue;
    }
    const file = graphFile(graph, dtype);
    let session: ort.InferenceSession;
    try {
      session = await ortModule.InferenceSession.create(join(dir, file), sessions.sessionOptions());
    } catch (err) {
      const damaged = /protobuf parsing failed/i.test((err as Error).message) ? ' (the file is cut short or not an ONNX graph: copy or download it again)' : '';
      problems.push(`cannot load ${file}: ${(err as Error).message}${damaged}`);
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
