import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRuntime, chooseProvider, modelDirs } from '../engine/runtime';
import { bundleDir } from './model-fixtures';

/** A copy of tiny-shapes named `name` under a fresh folder, changed by `edit` (manifest JSON, folder). */
function bundleCopy(name: string, edit: (manifest: any, dir: string) => void): string {
  const root = mkdtempSync(join(tmpdir(), 'picflow-registry-'));
  const dir = join(root, name);
  cpSync(bundleDir, dir, { recursive: true, filter: (src) => !src.includes('/train') });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  edit(manifest, dir);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return root;
}

async function loadError(root: string, name: string): Promise<string> {
  const runtime = new ModelRuntime({ device: 'cpu', modelDirs: [root] });
  try {
    const model = await runtime.model(name);
    await model.caption({ kind: 'image', width: 1, height: 1, channels: 3, data: new Uint8Array(3) });
    return 'no error';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await runtime.close();
  }
}

describe('the model registry', () => {
  it('finds the shipped bundle and bundles in the configured model folders, and reports the device and why', async () => {
    const root = bundleCopy('extra', () => {});
    expect(modelDirs([root])).toContain(root);
    const runtime = new ModelRuntime({ device: 'cpu', modelDirs: [root] });
    const report = await runtime.describe();
    expect(report.models.map((m) => m.name).sort()).toEqual(['extra', 'tiny-shapes']);
    expect(report.models.find((m) => m.name === 'tiny-shapes')).toMatchObject({ tasks: ['generate', 'edit', 'caption', 'score'], loaded: false });
    expect(report.device).toEqual({ provider: 'cpu', reason: 'cpu requested' });
    await runtime.close();
  });

  it('unloads the least recently used idle bundle beyond the memory budget', async () => {
    const root = bundleCopy('second', () => {});
    const runtime = new ModelRuntime({ device: 'cpu', modelDirs: [root], memoryBudgetBytes: 1 });
    const pixel = { kind: 'image', width: 1, height: 1, channels: 3, data: new Uint8Array(3) } as const;
    await (await runtime.unifiedAr('tiny-shapes')).encode(pixel);
    expect(runtime.sessions.loaded('tiny-shapes')).toBe(true);
    await (await runtime.unifiedAr('second')).encode(pixel);
    expect([runtime.sessions.loaded('tiny-shapes'), runtime.sessions.loaded('second')]).toEqual([false, true]);
    await (await runtime.unifiedAr('tiny-shapes')).encode(pixel);
    expect(runtime.sessions.created.get('tiny-shapes/encoder')).toBe(2);
    await runtime.close();
  });

  it('falls back to cpu with a reason when CUDA is asked for but not usable', () => {
    const choice = chooseProvider('cuda');
    if (choice.provider === 'cpu') expect(choice.reason).toMatch(/^cuda requested, using cpu: /);
  });

  it('rejects a wrong format id', async () => {
    const root = bundleCopy('odd', (m) => (m.format = 'someone-else.v7'));
    expect(await loadError(root, 'odd')).toContain("unsupported format 'someone-else.v7'");
  });

  it('names a missing graph file', async () => {
    const root = bundleCopy('holey', (_m, dir) => rmSync(join(dir, 'decoder.onnx')));
    expect(await loadError(root, 'holey')).toContain('missing graph file decoder.onnx');
  });

  it('names I/O that do not match the ONNX graph', async () => {
    const root = bundleCopy('renamed', (m) => (m.graphs.encoder.inputs[0].name = 'image'));
    const message = await loadError(root, 'renamed');
    expect(message).toContain('encoder.onnx');
    expect(message).toContain("input names [image] do not match the graph's [pixels]");
  });

  it('names an invalid manifest field', async () => {
    const root = bundleCopy('broken', (m) => delete m.graphs.transformer.kvCache);
    expect(await loadError(root, 'broken')).toContain('graphs.transformer.kvCache');
  });
});
