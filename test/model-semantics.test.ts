import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodePng, type ImageValue } from '../engine/image';
import {
  borderColor,
  caption,
  changedCaption,
  heldoutSample,
  IMAGE_KINDS,
  inspect,
  manifest,
  modelEngine,
  named,
  render,
  userImage,
  type Scene,
} from './model-fixtures';

// Semantics of the shipped tiny model through the whole engine: real workflows, real ONNX sessions.
describe('tiny-shapes through the engine', () => {
  const { engine, runtime } = modelEngine();
  afterAll(() => runtime.close());
  const dir = mkdtempSync(join(tmpdir(), 'picflow-model-'));
  const savePng = async (name: string, image: ImageValue) => {
    const path = join(dir, `${name}.png`);
    writeFileSync(path, await encodePng(image));
    return path;
  };

  it('the rule-based reader that judges images reads every rendered held-out scene right, jitter included', () => {
    const attributes = ({ size, color, shape, position, background }: Partial<Scene>) => ({ size, color, shape, position, background });
    const misread = heldoutSample(200).filter((scene) => JSON.stringify(attributes(inspect(render(scene)))) !== JSON.stringify(attributes(scene)));
    expect(misread).toEqual([]);
  });

  it("a generated image's own caption names the prompt's shape, colour and background for >= 85% of 40 held-out prompts", async () => {
    const scenes = heldoutSample(40);
    const captions = await Promise.all(
      scenes.map(async (scene, i) => {
        const result = await engine.run({
          version: 1,
          nodes: {
            p: { type: 'prompt', params: { text: caption(scene) } },
            g: { type: 'generate', params: { seed: i }, inputs: { prompt: ['p', 'text'] } },
            c: { type: 'caption', inputs: { image: ['g', 'image'] } },
            out: { type: 'output', inputs: { value: ['c', 'text'] } },
          },
        });
        expect(result.status).toBe('succeeded');
        return result.outputs.out.value as string;
      }),
    );
    const right = scenes.filter((s, i) => {
      const n = named(captions[i]);
      return n.shape === s.shape && n.color === s.color && n.background === s.background;
    });
    expect(right.length / scenes.length).toBeGreaterThanOrEqual(0.85);
  });

  it('reward-score ranks the matching caption above a one-attribute-changed one in >= 95% of held-out pairs', async () => {
    const scenes = heldoutSample(40);
    const wins = await Promise.all(
      scenes.map(async (scene, i) => {
        const path = await savePng(`scene-${i}`, render(scene));
        const result = await engine.run({
          version: 1,
          nodes: {
            img: { type: 'load-image', params: { path } },
            right: { type: 'prompt', params: { text: caption(scene) } },
            wrong: { type: 'prompt', params: { text: changedCaption(scene, i) } },
            sr: { type: 'reward-score', inputs: { image: ['img', 'image'], text: ['right', 'text'] } },
            sw: { type: 'reward-score', inputs: { image: ['img', 'image'], text: ['wrong', 'text'] } },
            a: { type: 'output', params: { name: 'right' }, inputs: { value: ['sr', 'score'] } },
            b: { type: 'output', params: { name: 'wrong' }, inputs: { value: ['sw', 'score'] } },
          },
        });
        const [r, w] = [result.outputs.right.value as number, result.outputs.wrong.value as number];
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThanOrEqual(1);
        return r > w;
      }),
    );
    expect(wins.filter(Boolean).length / wins.length).toBeGreaterThanOrEqual(0.95);
  });

  it('"an", capitals and a trailing period generate the same image as the plain grammar', async () => {
    const model = await runtime.model('tiny-shapes');
    const plain = 'a large red circle in the center on a orange background';
    const [want] = await model.generate(plain, { seed: 3 });
    for (const text of ['A large red circle in the center on an orange background.', 'a Large Red Circle in the center, on an orange background']) {
      const [got] = await model.generate(text, { seed: 3 });
      expect(Buffer.from(got.data).equals(Buffer.from(want.data))).toBe(true);
    }
  });

  it('captions held-out scenes exactly from JPEG, resampled, shifted and noisy images (>= 19 of 20 each)', async () => {
    const model = await runtime.model('tiny-shapes');
    const scenes = heldoutSample(20);
    for (const kind of IMAGE_KINDS.filter((k) => k !== 'clean')) {
      const texts = await Promise.all(scenes.map(async (scene, i) => model.caption(await userImage(scene, kind, i))));
      const wrong = scenes.map((s, i) => [caption(s), texts[i]]).filter(([want, got]) => want !== got);
      expect({ kind, wrong: wrong.length > 1 ? wrong : [] }).toEqual({ kind, wrong: [] });
    }
  });

  it('"move the ... to the ..." draws the object in the asked cell and keeps the rest (>= 19 of 20 held-out scenes)', async () => {
    const model = await runtime.model('tiny-shapes');
    const positions = manifest.domain.positions as string[];
    const cases = heldoutSample(20).map((scene, i) => {
      const to = positions.filter((p) => p !== scene.position)[i % 8];
      return { scene, instruction: `move the ${scene.shape} to the ${to}`, want: { ...scene, position: to } };
    });
    const seen = await Promise.all(cases.map(async (c, i) => inspect((await model.edit(render(c.scene), c.instruction, { seed: i }))[0])));
    const attributes = ({ size, color, shape, position, background }: Partial<Scene>) => ({ size, color, shape, position, background });
    const wrong = cases
      .map((c, i) => ({ source: c.scene, instruction: c.instruction, seen: attributes(seen[i]) }))
      .filter(({ seen: got }, i) => JSON.stringify(got) !== JSON.stringify(attributes(cases[i].want)));
    expect(wrong.length > 1 ? wrong : []).toEqual([]);
  });

  it('"make the background yellow" gives a yellow background and keeps the object as it was', async () => {
    const source = { size: 'large', color: 'red', shape: 'circle', position: 'center', background: 'blue' };
    const path = await savePng('edit-source', render(source));
    const result = await engine.run({
      version: 1,
      nodes: {
        img: { type: 'load-image', params: { path } },
        fix: { type: 'prompt', params: { text: 'make the background yellow' } },
        e: { type: 'edit', params: { seed: 1 }, inputs: { image: ['img', 'image'], instruction: ['fix', 'text'] } },
        out: { type: 'output', inputs: { value: ['e', 'image'] } },
      },
    });
    expect(result.status).toBe('succeeded');
    expect(borderColor(result.outputs.out.value as ImageValue)).toBe('yellow');
    expect(inspect(result.outputs.out.value as ImageValue)).toEqual({ ...source, background: 'yellow' });
  });
});
