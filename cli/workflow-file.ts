import { readFile } from 'node:fs/promises';
import type { Catalog } from '../engine/node';

/**
 * Reads a workflow file: workflow JSON v1, or ComfyUI's API format (detected and converted to v1;
 * a problem of the conversion is a WorkflowError, like any other problem of the workflow).
 */
export async function readWorkflowFile(path: string, catalog: Catalog): Promise<unknown> {
  // Imported here: parseSetting, below, is needed to declare the commands, before any command runs.
  const [{ asWorkflowV1, catalogPorts }, { WorkflowError }] = await Promise.all([import('../engine/api-format'), import('../engine/workflow')]);
  const { workflow, issues } = asWorkflowV1(await readJsonFile(path), catalogPorts(catalog));
  if (issues.length > 0) throw new WorkflowError(issues);
  return workflow;
}

/**
 * What `run` and `validate` take: a workflow file, or a PNG picflow wrote, which carries the workflow and the
 * run inputs that made it (`--set` goes on top of those).
 */
export async function readWorkflowSource(path: string, catalog: Catalog): Promise<{ workflow: unknown; inputs: Record<string, unknown> }> {
  if (!/\.png$/i.test(path)) return { workflow: await readWorkflowFile(path, catalog), inputs: {} };
  const { isPng, readWorkflow } = await import('../engine/png-metadata');
  const bytes = await readNamedFile(path);
  if (!isPng(bytes)) throw new Error(`${path} is not a PNG`);
  const stored = await readWorkflow(bytes);
  if (!stored) throw new Error(`${path} carries no picflow workflow (only PNGs picflow wrote do)`);
  return stored;
}

/** A file's bytes, with an error that names the file. */
async function readNamedFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** Reads and parses a JSON file, with errors that name the file. */
async function readJsonFile(path: string): Promise<unknown> {
  const text = (await readNamedFile(path)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * `--set key=value`. A node param (`g.seed=3`) is parsed as JSON when it can be (numbers, booleans);
 * a named prompt or template variable (`subject=…`) is always text.
 */
export function parseSetting(setting: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = setting.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects key=value, got '${setting}'`);
  const key = setting.slice(0, eq);
  const raw = setting.slice(eq + 1);
  let value: unknown = raw;
  if (key.includes('.')) {
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
  }
  return { ...previous, [key]: value };
}
