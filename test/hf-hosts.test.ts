import { execFile } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, encodePng, type ImageValue } from '../engine/image';
import { ModelRuntime } from '../engine/runtime';
import { directDualEncoder, directJanus, fixtureCopy, HF_FIXTURES, janusWorkflow } from './hf-fixtures';
import { startTestServer, upload, type TestServer } from './server-harness';

const exec = promisify(execFile);

async function picflow(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['bin/picflow.js', ...args], { env: { ...process.env, FORCE_COLOR: '0', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** What transformers.js gives directly for janusWorkflow()'s defaults (greedy, cfg 4). */
let expected: { image: ImageValue; caption: string; score: number };
beforeAll(async () => {
  const direct = await directJanus();
  const image = await direct.generate('a red circle', { seed: 0, cfg: 4, temperature: 0 });
  expected = { image, caption: await direct.caption(image), score: await direct.score(image, 'a red circle') };
  await direct.dispose();
});

/** A models folder with the Janus, CLIP and SigLIP fixtures and broken Janus copies: a graph missing, a wrong config, a corrupt graph. */
function brokenModels(): string {
  const root = fixtureCopy('janus-tiny', 'clip-tiny', 'siglip-tiny');
  const copy = (name: string) => {
    const dir = join(root, name);
    cpSync(join(HF_FIXTURES, 'janus-tiny'), dir, { recursive: true });
    return dir;
  };
  rmSync(join(copy('no-graph'), 'onnx', 'gen_head.onnx'));
  const wrong = copy('wrong-config');
  const config = JSON.parse(readFileSync(join(wrong, 'config.json'), 'utf8'));
  writeFileSync(join(wrong, 'config.json'), JSON.stringify({ ...config, model_type: 'gpt2' }));
  writeFileSync(join(copy('corrupt'), 'onnx', 'image_decode.onnx'), 'not an onnx graph');
  const both = copy('two-faults');
  rmSync(join(both, 'onnx', 'lm_head.onnx'));
  writeFileSync(join(both, 'onnx', 'gen_img_embeds.onnx'), 'garbage');
  return root;
}

describe('picflow CLI on the Janus fixture', () => {
  // each call starts a process (tsx), so the CLI is tried once per command; the engine suites cover the rest
  it('run: the image (PNG bytes), caption and score equal transformers.js called directly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picflow-hf-cli-'));
    const file = join(dir, 'janus.json');
    await writeFile(file, JSON.stringify(janusWorkflow()));
    const { code, stderr } = await picflow(['run', file, '--models', HF_FIXTURES, '--device', 'cpu', '--out', join(dir, 'out')]);
    expect(code, stderr).toBe(0);
    const outputs = JSON.parse(await readFile(join(dir, 'out', 'outputs.json'), 'utf8'));
    expect(outputs.caption.value).toBe(expected.caption);
    expect(outputs.score.value).toBeCloseTo(expected.score, 10);
    // The file also carries the workflow in text chunks; its pixels are byte for byte transformers.js's.
    const written = await decodeImage(await readFile(join(dir, 'out', outputs.image.value.image)));
    expect(written.width).toBe(expected.image.width);
    expect(Buffer.from(written.data).equals(Buffer.from(expected.image.data))).toBe(true);
  });

  it('models lists each model with format, tasks and dtype; inspect names every missing or mismatched file', async () => {
    const root = brokenModels();
    const list = await picflow(['models', '--models', root, '--device', 'cpu', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const report = JSON.parse(list.stdout);
    expect(report.device.provider).toBe('cpu');
    const janus = report.models.find((m: { name: string }) => m.name === 'janus-tiny');
    expect(janus).toMatchObject({ format: 'transformers.js/multi_modality', tasks: ['generate', 'caption', 'score'], dtype: 'fp32', loaded: false, vocabulary: null });
    expect(janus.sizeBytes).toBeGreaterThan(100_000);
    const wrong = report.problems.find((p: { name: string }) => p.name === 'wrong-config');
    expect(wrong.error).toContain("config.json: model_type \"gpt2\" is not one picflow runs");

    const bad = await picflow(['models', 'inspect', 'two-faults', '--models', root]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('missing graph file onnx/lm_head.onnx');
    expect(bad.stderr).toContain('cannot load onnx/gen_img_embeds.onnx');
  });
});

describe('picflow models pull', () => {
  let hub: Server;
  let endpoint: string;
  beforeAll(async () => {
    // a local stand-in for the hub's two endpoints a pull uses, serving the fixture as `tiny/janus`
    const dir = join(HF_FIXTURES, 'janus-tiny');
    const files = async (d: string): Promise<string[]> =>
      (await readdir(d, { withFileTypes: true, recursive: true })).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
    hub = createServer(async (req, res) => {
      if (req.url === '/api/models/tiny/janus') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ siblings: [...(await files(dir)), 'onnx/lm_head_q4f16.onnx'].map((rfilename) => ({ rfilename })) }));
        return;
      }
      const prefix = '/tiny/janus/resolve/main/';
      if (req.url?.startsWith(prefix)) {
        try {
          res.end(await readFile(join(dir, req.url.slice(prefix.length))));
        } catch {
          res.statusCode = 404;
          res.end();
        }
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((done) => hub.listen(0, '127.0.0.1', done));
    endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => hub.close(() => done())));

  it('downloads one dtype of an export into the models folder, and the model is ready to use', async () => {
    const models = await mkdtemp(join(tmpdir(), 'picflow-pull-'));
    const pull = await picflow(['models', 'pull', 'tiny/janus', '--models', models], { HF_ENDPOINT: endpoint });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain('janus: 13 files');
    expect(await readdir(join(models, 'janus', 'onnx'))).not.toContain('lm_head_q4f16.onnx');
    expect(JSON.parse(await readFile(join(models, 'janus', 'picflow.json'), 'utf8'))).toEqual({ source: 'tiny/janus', dtype: 'fp32' });
    // the pull inspected what it downloaded (it prints the count only when sound); the runtime agrees
    const runtime = new ModelRuntime({ device: 'cpu', modelDirs: [models] });
    expect(await runtime.inspect('janus')).toEqual([]);
    expect(runtime.find('janus').tasks).toEqual(['generate', 'caption', 'score']);
  });

  it('offline: one clear error line', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const models = await mkdtemp(join(tmpdir(), 'picflow-pull-'));
    const pull = await picflow(['models', 'pull', 'tiny/janus', '--models', models], { HF_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(pull.code).toBe(1);
    expect(pull.stderr.trim().split('\n')).toEqual([`picflow: cannot reach 127.0.0.1:${port} to look up tiny/janus (offline?): ECONNREFUSED`]);
  });
});

describe('the server on real model layouts', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ modelsDir: brokenModels(), device: 'cpu' });
  });
  afterAll(() => t.close());

  it('GET /api/models reports models, tasks, dtype, memory and provider, and the broken folders with their files', async () => {
    const { status, body } = await t.api('GET', '/api/models');
    expect(status).toBe(200);
    expect(body.device).toEqual({ provider: 'cpu', reason: 'cpu requested' });
    expect(body.memory.budgetBytes).toBeGreaterThan(0);
    const byName = Object.fromEntries(body.models.map((m: { name: string }) => [m.name, m]));
    expect(byName['janus-tiny'].tasks).toEqual(['generate', 'caption', 'score']);
    expect(byName['clip-tiny'].tasks).toEqual(['score']);
    expect(byName['tiny-shapes'].vocabulary).toContain('circle');
    expect(body.problems.map((p: { name: string }) => p.name)).toEqual(['wrong-config']);
  });

  it('runs generate, caption and score with the outputs transformers.js gives directly', async () => {
    const run = await t.api('POST', '/api/runs', { workflow: janusWorkflow(), wait: true });
    expect(run.body.status, JSON.stringify(run.body.error)).toBe('succeeded');
    expect(run.body.outputs.caption.value).toBe(expected.caption);
    expect(run.body.outputs.score.value).toBeCloseTo(expected.score, 10);
    const png = Buffer.from(await (await fetch(t.url + run.body.outputs.image.value.url)).arrayBuffer());
    expect(png.equals(await encodePng(expected.image))).toBe(true);
    expect(Buffer.from((await decodeImage(png)).data).equals(Buffer.from(expected.image.data))).toBe(true);
  });

  it('reward-score on SigLIP scores an uploaded image as transformers.js does directly', async () => {
    const uploaded = await upload(t.url, await encodePng(expected.image));
    const run = await t.api('POST', '/api/runs', {
      workflow: {
        version: 1,
        nodes: {
          img: { type: 'load-image', params: { artifact: uploaded.body.artifact } },
          p: { type: 'prompt', params: { text: 'a red circle' } },
          s: { type: 'reward-score', params: { model: 'siglip-tiny' }, inputs: { image: ['img', 'image'], text: ['p', 'text'] } },
          out: { type: 'output', params: { name: 'score' }, inputs: { value: ['s', 'score'] } },
        },
      },
      wait: true,
    });
    expect(run.body.status, JSON.stringify(run.body.error)).toBe('succeeded');
    const [score] = await directDualEncoder('siglip-tiny', [expected.image], 'a red circle');
    expect(run.body.outputs.score.value).toBeCloseTo(score, 6);
    expect(score > 0 && score < 1).toBe(true);
  });

  it('a broken model folder is one clear error naming the file; the server stays up and other models work', async () => {
    const corrupt = await t.api('POST', '/api/runs', { workflow: janusWorkflow({ model: 'corrupt' }), wait: true });
    expect(corrupt.body.status).toBe('failed');
    expect(corrupt.body.error.message).toContain('cannot load onnx/image_decode.onnx');
    const missing = await t.api('POST', '/api/runs', { workflow: janusWorkflow({ model: 'no-graph' }), wait: true });
    expect(missing.body.error.message).toContain('missing graph file onnx/gen_head.onnx');
    const wrong = await t.api('POST', '/api/runs', { workflow: janusWorkflow({ model: 'wrong-config' }), wait: true });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatchObject({ node: 'g', field: 'params.model' });
    expect(wrong.body.errors[0].message).toContain('config.json: model_type "gpt2"');
    const lacking = await t.api('POST', '/api/runs', { workflow: janusWorkflow({ model: 'clip-tiny' }), wait: true });
    expect(lacking.status).toBe(400);
    expect(lacking.body.errors).toContainEqual({ node: 'c', field: 'params.model', message: "model 'clip-tiny' cannot caption: it supports score" });
    const again = await t.api('POST', '/api/runs', { workflow: janusWorkflow(), wait: true });
    expect(again.body.status).toBe('succeeded');
    expect((await t.api('GET', '/api/health')).status).toBe(200);
  });
});
