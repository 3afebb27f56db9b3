// Model folders as users bring them: copied, linked, half-downloaded, cloned without Git LFS. Each
// problem is named (the file, what is wrong, what to do) and the other models keep working.
import { cpSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import { makeImage } from '../engine/image';
import { ModelRuntime, SHIPPED_MODELS_DIR } from '../engine/runtime';
import { createServices } from '../engine/services';
import { catalog } from '../nodes';
import { bundleDir } from './model-fixtures';
import { directDualEncoder, fixtureCopy, HF_FIXTURES, janusWorkflow } from './hf-fixtures';

const LFS_POINTER = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 605000000\n';
const image = makeImage(32, 32, 3, Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256));
const TEXT = 'a red circle';

let runtimes: ModelRuntime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  runtimes = [];
});

function runtimeOn(...dirs: string[]): ModelRuntime {
  const runtime = new ModelRuntime({ device: 'cpu', modelDirs: dirs });
  runtimes.push(runtime);
  return runtime;
}

/** What validation says about a workflow that uses `model` in every node (generate, caption, reward-score). */
function validationMessage(runtime: ModelRuntime, model: string): string {
  const engine = new Engine({ catalog, services: createServices({ allowFilePaths: false, models: runtime }) });
  return engine.validate(janusWorkflow({ model })).errors[0]?.message ?? 'valid';
}

async function scoreError(runtime: ModelRuntime, model: string): Promise<string> {
  try {
    await (await runtime.model(model)).score(image, TEXT);
    return 'no error';
  } catch (err) {
    return (err as Error).message;
  }
}

async function problemOf(runtime: ModelRuntime, name: string): Promise<string | undefined> {
  return (await runtime.describe()).problems.find((p) => p.name === name)?.error;
}

/** The sound CLIP still scores as transformers.js does: a broken neighbour costs it nothing. */
async function clipStillWorks(runtime: ModelRuntime): Promise<void> {
  const [expected] = await directDualEncoder('clip-tiny', [image], TEXT);
  expect(await (await runtime.model('clip-tiny')).score(image, TEXT)).toBeCloseTo(expected, 6);
}

describe('model folders as users bring them', () => {
  it('a symlinked model folder, and names with spaces and unicode, are models like any other', async () => {
    const root = fixtureCopy('clip-tiny');
    symlinkSync(join(HF_FIXTURES, 'siglip-tiny'), join(root, 'siglip linked'));
    cpSync(join(HF_FIXTURES, 'clip-tiny'), join(root, 'clip ✓ 模型'), { recursive: true });
    const runtime = runtimeOn(root);
    expect((await runtime.describe()).models.map((m) => m.name)).toEqual(expect.arrayContaining(['siglip linked', 'clip ✓ 模型']));
    const [expected] = await directDualEncoder('siglip-tiny', [image], TEXT);
    expect(await (await runtime.model('siglip linked')).score(image, TEXT)).toBeCloseTo(expected, 6);
    await clipStillWorks(runtime);
  });

  it('a hub clone without Git LFS: each pointer file is named with `git lfs pull`, graph, external data or JSON', async () => {
    const root = fixtureCopy('clip-tiny', 'janus-tiny');
    const clone = (name: string, from: string) => {
      cpSync(join(HF_FIXTURES, from), join(root, name), { recursive: true });
      mkdirSync(join(root, name, '.git'));
      return join(root, name);
    };
    writeFileSync(join(clone('clip-graph', 'clip-tiny'), 'onnx', 'model.onnx'), LFS_POINTER);
    writeFileSync(join(clone('clip-data', 'clip-tiny'), 'onnx', 'model.onnx_data'), LFS_POINTER);
    writeFileSync(join(clone('janus-config', 'janus-tiny'), 'config.json'), LFS_POINTER);
    const runtime = runtimeOn(root);

    const graph = await scoreError(runtime, 'clip-graph');
    expect(graph).toContain('onnx/model.onnx is a Git LFS pointer, not the file itself: run `git lfs pull` in');
    expect(graph).not.toContain('Protobuf');
    expect(await runtime.inspect('clip-graph')).toEqual([expect.stringContaining('onnx/model.onnx is a Git LFS pointer')]);
    expect(await scoreError(runtime, 'clip-data')).toContain('onnx/model.onnx_data is a Git LFS pointer');
    // a config.json pointer is found when the folder is read: the model is a problem, and validation names it
    expect(await problemOf(runtime, 'janus-config')).toContain('config.json is a Git LFS pointer');
    expect(validationMessage(runtime, 'janus-config')).toContain('config.json is a Git LFS pointer');
    await clipStillWorks(runtime);
  });

  it('folders that hold no model are named with what a model folder holds: empty, nested one level down, a dangling link', async () => {
    const root = fixtureCopy('clip-tiny');
    mkdirSync(join(root, 'empty'));
    mkdirSync(join(root, 'onnx-community'));
    cpSync(join(HF_FIXTURES, 'janus-tiny'), join(root, 'onnx-community', 'Janus-Pro-1B-ONNX'), { recursive: true });
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    mkdirSync(join(root, '.cache'));
    writeFileSync(join(root, 'README.txt'), 'my models');
    const runtime = runtimeOn(root);
    const report = await runtime.describe();
    expect(report.problems.map((p) => p.name).sort()).toEqual(['dangling', 'empty', 'onnx-community']);
    expect(await problemOf(runtime, 'empty')).toContain('not a model: the folder is empty; a model folder has manifest.json (a picflow bundle) or config.json (a Hugging Face ONNX export)');
    expect(await problemOf(runtime, 'onnx-community')).toContain('its sub-folder Janus-Pro-1B-ONNX is a model: move it up one level');
    expect(await problemOf(runtime, 'dangling')).toContain(`a link to ${join(root, 'gone')}, which does not exist`);
    expect(validationMessage(runtime, 'empty')).toContain('the folder is empty');
    await clipStillWorks(runtime);
  });

  it('a folder hidden by a model of the same name (here the shipped tiny-shapes) is named, not silently ignored', async () => {
    const root = fixtureCopy('clip-tiny');
    cpSync(join(HF_FIXTURES, 'clip-tiny'), join(root, 'tiny-shapes'), { recursive: true });
    const runtime = runtimeOn(root);
    expect(await problemOf(runtime, 'tiny-shapes')).toBe(
      `${join(root, 'tiny-shapes')} is not used: the model 'tiny-shapes' in ${bundleDir} has the same name and comes first; rename this folder`,
    );
    expect(runtime.find('tiny-shapes').dir).toBe(bundleDir);
  });

  it('graphs in mixed precisions: a missing graph names the dtypes the folder has it in and what to do', async () => {
    const root = fixtureCopy('janus-tiny', 'clip-tiny');
    const onnx = join(root, 'janus-tiny', 'onnx');
    renameSync(join(onnx, 'gen_head.onnx'), join(onnx, 'gen_head_fp16.onnx'));
    renameSync(join(onnx, 'lm_head.onnx'), join(onnx, 'lm_head_q4f16.onnx'));
    const runtime = runtimeOn(root);
    expect(runtime.find('janus-tiny').dtype).toBe('fp32');
    expect(await runtime.inspect('janus-tiny')).toEqual([
      'missing graph file onnx/lm_head.onnx (the folder has it as onnx/lm_head_q4f16.onnx; all graphs load in one dtype, here fp32: add this file, or set "dtype" in picflow.json to one whose graphs are all there)',
      'missing graph file onnx/gen_head.onnx (the folder has it as onnx/gen_head_fp16.onnx; all graphs load in one dtype, here fp32: add this file, or set "dtype" in picflow.json to one whose graphs are all there)',
    ]);
    await clipStillWorks(runtime);
  });

  it('a damaged tokenizer.json fails the load naming the file (transformers.js would only say the JSON is bad)', async () => {
    const root = fixtureCopy('clip-tiny', 'siglip-tiny');
    writeFileSync(join(root, 'siglip-tiny', 'tokenizer.json'), '{"version": "1.0", "trunc');
    const runtime = runtimeOn(root);
    expect(await scoreError(runtime, 'siglip-tiny')).toMatch(/siglip-tiny: tokenizer\.json is not valid JSON \(/);
    await clipStillWorks(runtime);
  });

  it('a model copied in or fixed while the runtime runs (a server) is found without a restart', async () => {
    const root = fixtureCopy('clip-tiny', 'siglip-tiny');
    const config = join(root, 'siglip-tiny', 'config.json');
    const sound = readFileSync(config, 'utf8');
    writeFileSync(config, sound.replace('"model_type": "siglip"', '"model_type": "siglip2"'));
    const runtime = runtimeOn(root);
    expect(validationMessage(runtime, 'siglip-tiny')).toContain('model_type "siglip2" is not one picflow runs');
    expect(validationMessage(runtime, 'later')).toContain("unknown model 'later'");
    writeFileSync(config, sound);
    cpSync(join(HF_FIXTURES, 'siglip-tiny'), join(root, 'later'), { recursive: true });
    expect(runtime.find('siglip-tiny').tasks).toEqual(['score']);
    expect(runtime.find('later').tasks).toEqual(['score']);
    expect((await runtime.describe()).problems).toEqual([]);
  });

  it("the memory estimate counts a graph's external data (where a large export keeps its weights)", async () => {
    const root = fixtureCopy('clip-tiny');
    writeFileSync(join(root, 'clip-tiny', 'onnx', 'model.onnx_data'), Buffer.alloc(3_000_000));
    const runtime = runtimeOn(root);
    await (await runtime.model('clip-tiny')).score(image, TEXT);
    expect(runtime.sessions.bytesInUse).toBeGreaterThan(2 * 3_000_000);
  });

  it('a --models path that is a file, or missing, is said so instead of failing every listing', async () => {
    const root = fixtureCopy('clip-tiny');
    const file = join(root, 'clip-tiny', 'config.json');
    const runtime = runtimeOn(file);
    expect((await runtime.describe()).problems).toEqual([{ name: 'config.json', dir: file, error: `models folder ${file} is a file, not a folder` }]);
    expect(validationMessage(runtimeOn(join(root, 'typo')), 'clip-tiny')).toContain(`looked in ${SHIPPED_MODELS_DIR}, ${join(root, 'typo')} (missing)`);
  });

  it('a Janus tokenizer_config.json without its chat templates is named, not left to a transformers.js error about image tags', async () => {
    const root = fixtureCopy('janus-tiny', 'clip-tiny');
    const config = join(root, 'janus-tiny', 'tokenizer_config.json');
    const { chat_template: _dropped, ...rest } = JSON.parse(readFileSync(config, 'utf8'));
    writeFileSync(config, JSON.stringify(rest));
    const runtime = runtimeOn(root);
    let message = 'no error';
    try {
      await (await runtime.model('janus-tiny')).caption(image);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`${config} has no chat template named 'default' and 'text_to_image'`);
    expect(message).toContain("copy tokenizer_config.json from the model's hub repo");
    await clipStillWorks(runtime);
  });
});

