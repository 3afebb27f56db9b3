/**
 * What the shipped ONNX graphs do, as users run them (onnxruntime-node, the TS sampler), on held-out
 * attribute combinations: every generated or edited image is read by a rule-based reader
 * (test/model-fixtures `inspect`), never by the model. eval.py measures the torch model the same way;
 * this measures the bundle. Prints tables; asserts nothing.
 *
 *   npm run bench:quality [-- --n 120]
 *   SWEEP="3:0.01,3:0.3" npm run bench:quality      (generate's cfg:cfgMinRatio settings to compare)
 */
import { makeImage, type ImageValue } from '../engine/image';
import { ModelRuntime } from '../engine/runtime';
import { caption, changedCaption, COLORS, heldout, inspect, manifest, render, type Scene } from '../test/model-fixtures';

const n = Number(process.argv[process.argv.indexOf('--n') + 1]) || 120;
const ATTRS = ['size', 'color', 'shape', 'position', 'background'] as const;
const defaults = manifest.defaults.generate as { cfg: number; cfgMinRatio: number };
const settings = (spec: string | undefined, d: { cfg: number; cfgMinRatio: number }) =>
  (spec ?? `1:${d.cfgMinRatio},${d.cfg}:${d.cfgMinRatio}`).split(',').map((s) => s.split(':').map(Number) as [number, number]);
const sweep = settings(process.env.SWEEP, defaults);
const editSweep = settings(process.env.EDIT_SWEEP, manifest.defaults.edit);

/** `n` held-out scenes spread over the list, jittered by -3..3 px as in training. */
function scenes(count: number, salt: number): Scene[] {
  return Array.from({ length: count }, (_, i) => ({
    ...heldout[Math.floor((i * heldout.length) / count)],
    dx: ((i * 5 + salt) % 7) - 3,
    dy: ((i * 3 + salt) % 7) - 3,
  }));
}

const agrees = (want: Partial<Scene>, seen: Partial<Scene>) => ATTRS.every((a) => want[a] === undefined || want[a] === seen[a]);
const pct = (k: number, of: number) => `${((100 * k) / of).toFixed(1)}%`;

/** One pixel shifted (the border re-filled with the background), or Gaussian noise of sigma 8. */
function variant(scene: Scene, kind: 'clean' | 'shifted' | 'noisy', i: number): ImageValue {
  if (kind === 'shifted') {
    const clampJitter = (v = 0) => Math.max(-2, Math.min(2, v));
    const img = render({ ...scene, dx: clampJitter(scene.dx), dy: clampJitter(scene.dy) });
    const [dx, dy] = [[1, 0], [-1, 0], [0, 1], [0, -1]][i % 4];
    const out = new Uint8Array(img.data.length);
    const bg = manifest.domain.palette[scene.background] as number[];
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const [sx, sy] = [x - dx, y - dy];
        const inside = sx >= 0 && sx < 32 && sy >= 0 && sy < 32;
        out.set(inside ? img.data.subarray((sy * 32 + sx) * 3, (sy * 32 + sx) * 3 + 3) : bg, (y * 32 + x) * 3);
      }
    }
    return makeImage(32, 32, 3, out);
  }
  const img = render(scene);
  if (kind === 'clean') return img;
  let state = i + 1;
  const gauss = () => {
    // Box-Muller over a small LCG: deterministic noise without a dependency
    const u = () => ((state = (state * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
    return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  };
  return makeImage(32, 32, 3, img.data.map((v) => Math.max(0, Math.min(255, Math.round(v + 8 * gauss())))));
}

/** An instruction of each of the five kinds in turn, and the scene it asks for. */
const EDIT_KINDS = ['object colour', 'background', 'move', 'size', 'shape'];
function editOf(scene: Scene, i: number): { instruction: string; want: Scene } {
  const other = <T>(values: T[], current: T) => values.filter((v) => v !== current)[i % (values.length - 1)];
  const d = manifest.domain;
  switch (i % 5) {
    case 0: {
      const color = other(COLORS.filter((c) => c !== scene.background), scene.color);
      return { instruction: `make the ${scene.shape} ${color}`, want: { ...scene, color } };
    }
    case 1: {
      const background = other(COLORS.filter((c) => c !== scene.color), scene.background);
      return { instruction: `make the background ${background}`, want: { ...scene, background } };
    }
    case 2: {
      const position = other(d.positions as string[], scene.position);
      return { instruction: `move the ${scene.shape} to the ${position}`, want: { ...scene, position } };
    }
    case 3: {
      const size = other(Object.keys(d.sizes), scene.size);
      return { instruction: `make the ${scene.shape} ${size}`, want: { ...scene, size } };
    }
    default: {
      const shape = other(d.shapes as string[], scene.shape);
      return { instruction: `turn the ${scene.shape} into a ${shape}`, want: { ...scene, shape } };
    }
  }
}

const runtime = new ModelRuntime({ device: 'cpu', intraOpThreads: 1 });
const model = await runtime.model('tiny-shapes');
console.log(`tiny-shapes through onnxruntime-node, ${n} held-out combinations per row, judged by the rule-based reader\n`);

const generateRows = [];
for (const [cfg, cfgMinRatio] of sweep) {
  const wrong: Record<string, number> = {};
  let right = 0;
  for (const [i, scene] of scenes(n, 0).entries()) {
    const [image] = await model.generate(caption(scene), { seed: i, cfg, cfgMinRatio });
    const seen = inspect(image);
    if (agrees(scene, seen)) right++;
    for (const a of ATTRS) if (scene[a] !== seen[a]) wrong[a] = (wrong[a] ?? 0) + 1;
  }
  generateRows.push({ cfg, cfgMinRatio, 'all attributes right': pct(right, n), ...Object.fromEntries(ATTRS.map((a) => [`${a} wrong`, wrong[a] ?? 0])) });
}
console.log('generate (full prompt, temperature 1)');
console.table(generateRows);

const editRows = [];
for (const [cfg, cfgMinRatio] of editSweep) {
  const byKind: Record<string, [number, number]> = {};
  let right = 0;
  for (const [i, scene] of scenes(n, 1).entries()) {
    const { instruction, want } = editOf(scene, i);
    const [image] = await model.edit(render(scene), instruction, { seed: i, cfg, cfgMinRatio });
    const ok = agrees({ ...want, dx: undefined, dy: undefined }, inspect(image));
    const k = (byKind[EDIT_KINDS[i % 5]] ??= [0, 0]);
    k[0] += ok ? 1 : 0;
    k[1]++;
    if (ok) right++;
  }
  editRows.push({ cfg, cfgMinRatio, all: pct(right, n), ...Object.fromEntries(Object.entries(byKind).map(([kind, [ok, of]]) => [kind, pct(ok, of)])) });
}
console.log('edit (the asked attribute changed, every other kept; temperature 1)');
console.table(editRows);

const understanding = [];
for (const kind of ['clean', 'shifted', 'noisy'] as const) {
  let captions = 0;
  let ranked = 0;
  for (const [i, scene] of scenes(n, 2).entries()) {
    const image = variant(scene, kind, i);
    if ((await model.caption(image)) === caption(scene)) captions++;
    if ((await model.score(image, caption(scene))) > (await model.score(image, changedCaption(scene, i)))) ranked++;
  }
  understanding.push({ images: kind, 'caption exact': pct(captions, n), 'score ranks the right caption first': pct(ranked, n) });
}
console.log('caption (greedy) and score, on clean, 1 px shifted and noisy (sigma 8) images');
console.table(understanding);
await runtime.close();
