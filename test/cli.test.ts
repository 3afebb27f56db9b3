import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { textChunks } from './png-text-chunks';

const exec = promisify(execFile);

async function picflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['bin/picflow.js', ...args], { env: { ...process.env, FORCE_COLOR: '0' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('picflow CLI', () => {
  it('run writes outputs.json and numbered PNGs', async () => {
    const out = await mkdtemp(join(tmpdir(), 'picflow-cli-'));
    const { code, stderr } = await picflow('run', 'workflows/upscale-image.json', '--out', out);
    expect(code, stderr).toBe(0);
    const outputs = JSON.parse(await readFile(join(out, 'outputs.json'), 'utf8'));
    expect(outputs.nearest.value).toEqual({ image: 'nearest-0.png', width: 256, height: 256 });
    const meta = await sharp(join(out, 'nearest-0.png')).metadata();
    expect([meta.width, meta.height]).toEqual([256, 256]);
    // plain progress lines when not on a TTY
    expect(stderr).toMatch(/sharp: done in/);
  });

  it('run applies --set to named prompts and node params', async () => {
    const out = await mkdtemp(join(tmpdir(), 'picflow-cli-'));
    const { code } = await picflow('run', 'workflows/named-prompts.json', '--set', 'subject=a small red circle', '--set', 'limit.value=1', '--out', out);
    expect(code).toBe(0);
    const outputs = JSON.parse(await readFile(join(out, 'outputs.json'), 'utf8'));
    expect(outputs.caption.value).toBe('a small red circle in the center');
    expect(outputs.ok.value).toBe(false);
  });

  it('run prints text and number outputs, and its PNGs carry the workflow that reproduces them', async () => {
    const out = await mkdtemp(join(tmpdir(), 'picflow-cli-'));
    const first = await picflow('run', 'workflows/generate-caption-score.json', '--set', 'g.seed=5', '--out', out);
    expect(first.code, first.stderr).toBe(0);
    const outputs = JSON.parse(await readFile(join(out, 'outputs.json'), 'utf8'));
    const texts = Object.entries(outputs).filter(([, o]) => ['string', 'number'].includes(typeof (o as { value: unknown }).value));
    expect(texts.length).toBeGreaterThan(0);
    for (const [name, o] of texts) expect(first.stdout).toContain(`${name}: ${(o as { value: unknown }).value}`);
    const png = first.stdout.split('\n').find((l) => l.endsWith('.png'))!;
    expect(png).toBeTruthy();

    // Read back with a plain chunk reader and zlib, not picflow's own code.
    const bytes = await readFile(png);
    const chunks = textChunks(bytes);
    const workflow = JSON.parse(chunks['picflow-workflow']);
    expect(workflow).toEqual(JSON.parse(await readFile('workflows/generate-caption-score.json', 'utf8')));
    expect(JSON.parse(chunks['picflow-inputs'])).toEqual({ 'g.seed': 5 });

    const again = await mkdtemp(join(tmpdir(), 'picflow-cli-'));
    const second = await picflow('run', png, '--out', again);
    expect(second.code, second.stderr).toBe(0);
    const repeat = second.stdout.split('\n').find((l) => l.endsWith(png.slice(out.length)))!;
    expect(Buffer.compare(await readFile(repeat), bytes)).toBe(0);

    // validate takes the same PNG, with the inputs it carries (and --set on top).
    const checked = await picflow('validate', png);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain(`${png}: ok (`);
    const overridden = await picflow('validate', png, '--set', 'g.seed=-1');
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toContain("node 'g' params.seed");
  });

  it('run and validate refuse a PNG that carries no workflow, naming the file', async () => {
    for (const command of ['run', 'validate']) {
      const { code, stderr } = await picflow(command, 'workflows/assets/red-circle.png');
      expect(code).toBe(1);
      expect(stderr).toContain('workflows/assets/red-circle.png carries no picflow workflow');
    }
  });

  it('validate exits 1 and prints each problem with node and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'picflow-cli-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ version: 1, nodes: { r: { type: 'resize', params: { width: 0 } }, o: { type: 'save-image', inputs: { image: ['r', 'image'] } } } }));
    const { code, stderr } = await picflow('validate', file);
    expect(code).toBe(1);
    expect(stderr).toContain("node 'r' params.width");
    expect(stderr).toContain("node 'r' inputs.image");
    expect((await picflow('validate', 'workflows/upscale-image.json')).code).toBe(0);
  });

  it('names an unreadable file in one line', async () => {
    const { code, stderr } = await picflow('run', 'no/such.json');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('picflow: cannot read no/such.json: no such file');
  });

  it('nodes --json prints the catalog with JSON Schema params', async () => {
    const { stdout } = await picflow('nodes', '--json');
    const catalog = JSON.parse(stdout) as { type: string; params: { properties: Record<string, unknown> } }[];
    const resize = catalog.find((n) => n.type === 'resize')!;
    expect(resize.params.properties.width).toMatchObject({ type: 'integer', minimum: 1, maximum: 4096, default: 256 });
  });
  it('serve, compiled, finds the pages that live beside its sources: the editor, the API docs, an app page', async () => {
    const data = await mkdtemp(join(tmpdir(), 'picflow-cli-serve-'));
    const server = spawn(process.execPath, ['bin/picflow.js', 'serve', '--port', '0', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let printed = '';
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (chunk: Buffer) => {
          printed += chunk;
          const found = /picflow serving on (\S+)/.exec(printed);
          if (found) resolve(found[1]);
        });
        server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${printed}`)));
      });
      const workflow = await readFile('workflows/named-prompts.json', 'utf8');
      const saved = await fetch(`${url}/api/workflows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: workflow });
      const { id } = (await saved.json()) as { id: string };
      const trigger = await fetch(`${url}/api/workflows/${id}/trigger`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slug: 'named', mode: 'sync' }) });
      expect(trigger.status, await trigger.clone().text()).toBe(200);
      // The app page and the docs page are files under server/ (the bundle lives in dist/cli); the editor is dist/editor.
      for (const path of ['/', '/api/docs', '/apps/named']) {
        const page = await fetch(url + path);
        expect(page.status, path).toBe(200);
        expect(page.headers.get('content-type'), path).toMatch(/text\/html/);
      }
    } finally {
      server.kill('SIGTERM');
    }
  });
});
