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

/** Reads and parses a JSON file, with errors that name the file. */
async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
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
