import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const HF_FIXTURES = fileURLToPath(new URL('./fixtures/hf', import.meta.url));

// A resolve hook that names, on stderr, every package the process imports.
const hook = `export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(r.url);
  if (m) process.stderr.write('imported package ' + m[1] + '\\n');
  return r;
}`;
const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;

/** The packages the compiled CLI imports for `args`, and its output. */
async function packagesImportedBy(...args: string[]): Promise<{ packages: Set<string>; stdout: string }> {
  const { stdout, stderr } = await exec(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, 'bin/picflow.js', ...args]);
  return { packages: new Set([...stderr.matchAll(/^imported package (\S+)$/gm)].map((m) => m[1])), stdout };
}

const JANUS_WORKFLOW = {
  version: 1,
  nodes: {
    p: { type: 'prompt', params: { name: 'subject', text: 'a red circle' } },
    g: { type: 'generate', params: { model: 'janus-tiny', seed: 1 }, inputs: { prompt: ['p', 'text'] } },
    image: { type: 'save-image', params: { name: 'image' }, inputs: { image: ['g', 'image'] } },
  },
};

const HEAVY = ['onnxruntime-node', 'onnxruntime-common', '@huggingface/transformers', 'sharp'];

describe('model code loads only when a model is created', () => {
  it('validate checks model nodes of both formats without importing onnxruntime, transformers.js or sharp', async () => {
    const tiny = await packagesImportedBy('validate', 'workflows/generate-caption-score.json');
    expect(tiny.stdout).toMatch(/ok \(7 nodes\)/);
    const janusWorkflow = join(await mkdtemp(join(tmpdir(), 'picflow-lazy-')), 'janus.json');
    await writeFile(janusWorkflow, JSON.stringify(JANUS_WORKFLOW));
    const janus = await packagesImportedBy('validate', janusWorkflow, '--models', HF_FIXTURES);
    expect(janus.stdout).toMatch(/ok \(3 nodes\)/);
    for (const name of HEAVY) {
      expect(tiny.packages, name).not.toContain(name);
      expect(janus.packages, name).not.toContain(name);
    }
    // the hook does see packages: the CLI's own are named
    expect(tiny.packages).toContain('commander');
  });

  it('inspecting a model imports onnxruntime, so the hook would have seen it', async () => {
    const { packages } = await packagesImportedBy('models', 'inspect', 'janus-tiny', '--models', HF_FIXTURES);
    expect(packages).toContain('onnxruntime-node');
  });
});
