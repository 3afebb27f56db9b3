import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePng, isImage, type RunOutput } from '../engine';
import { withWorkflow, type PngWorkflow } from '../engine/png-metadata';

/**
 * Writes the saved results of a run into `dir`: each image as `<name>-<i>.png` (i from 0, also for a
 * single image) and `outputs.json` with every `output`/`save-image` value, images given by file name.
 * Previews are for the editor and are not written. Each PNG carries the workflow and run inputs that
 * made it (see engine/png-metadata.ts), so `picflow run <image>.png` runs it again.
 */
export async function writeOutputs(dir: string, outputs: Record<string, RunOutput>, made: PngWorkflow): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const summary: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(outputs)) {
    if (output.kind === 'preview') continue;
    let index = 0;
    const toJson = async (value: unknown): Promise<unknown> => {
      if (Array.isArray(value)) {
        const items = [];
        for (const item of value) items.push(await toJson(item));
        return items;
      }
      if (!isImage(value)) return value;
      const file = `${name}-${index++}.png`;
      await writeFile(join(dir, file), await withWorkflow(await encodePng(value), made));
      written.push(join(dir, file));
      return { image: file, width: value.width, height: value.height };
    };
    summary[name] = { node: output.node, type: output.type, value: await toJson(output.value) };
  }
  const json = join(dir, 'outputs.json');
  await writeFile(json, JSON.stringify(summary, null, 2) + '\n');
  return [json, ...written];
}
