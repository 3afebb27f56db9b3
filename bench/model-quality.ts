/**
 * What the shipped ONNX graphs do, as users run them (onnxruntime-node, the TS sampler), on held-out
 * attribute combinations: every generated or edited image is read by a rule-based reader
 * (test/model-fixtures `inspect`), never by the model. eval.py measures the torch model the same way;
 * this measures the bundle. Prints tables; asserts nothing.
 *
 *   npm run bench:quality [-- --n 400]        (samples per row; the bar is measured at 400)
 *   SWEEP="3:0.01,3:0.3" npm run bench:quality      (generate's cfg:cfgMinRatio settings to compare)
 */
import { ModelRuntime } from '../engine/runtime';
import { caption, changedCaption, heldout, IMAGE_KINDS, inspect, manifest, render, userImage, type Scene } from '../test/model-fixtures';

const n = Number(process.argv[process.argv.indexOf('--n') + 1]) || 400;
const ATTRS = ['size', 'color', 'shape', 'position', 'background'] as const;
const WEAK_SPOT = { size: 'large', color: 'red', shape: 'circle', position: 'center', background: 'blue' };
const defaults = manifest.defaults.generate as { cfg: number; cfgMinRatio: number };
const settings = (spec: string | undefined, d: { cfg: number; cfgMinRatio: number }) =>
  (spec ?? `${d.cfg}:${d.cfgMinRatio}`).split(',').map((s) => s.split(':').map(Number) as [number, number]);
const sweep = settings(process.env.SWEEP, defaults);
const editSettings = manifest.defaults.edit as { cfg: number; cfgMinRatio: number };

/** `count` held-out scenes spread over the list, jittered by -3..3 px as in training. */
function scenes(count: number, salt: number): Scene[] {
  return Array.from({ length: count }, (_, i) => ({
    ...heldout[Math.floor((i * heldout.length) / count)],
    dx: ((i * 5 + salt) % 7) - 3,
    dy: ((i * 3 + salt) % 7) - 3,
  }));
}

const agrees = (want: Partial<Scene>, seen: Partial<Scene>) => ATTRS.every((a) => want[a] === undefined || want[a] === seen[a]);
const pct = (k: number, of: number) => `${((100 * k) / of).toFixed(1)}%`;

/** Which attributes a generate row's prompts name, for the i-th prompt. */
const PROMPTS = {
  full: () => ({ size: true, position: true, background: true }),
  // as the grammar allows: size and position each left out half the time
  'size/position left out': (i: number) => ({ size: i % 2 === 0, position: i % 4 < 2, background: true }),
  // the model picks the background: right only if the object is there in a colour of its own
  'background left out': () => ({ size: true, position: true, background: false }),
};

/** The attributes a prompt names. */
const namedBy = (s: Scene, named: { size: boolean; position: boolean; background: boolean }): Partial<Scene> => ({
  color: s.color,
  shape: s.shape,
  ...(named.size ? { size: s.size } : {}),
  ...(named.position ? { position: s.position } : {}),
  ...(named.background ? { background: s.background } : {}),
});

/** An instruction of the given kind, and the scene it asks for. */
const EDIT_KINDS = ['object colour', 'background', 'move', 'size', 'shape'] as const;
function editOf(scene: Scene, kind: number, i: number): { instruction: string; want: Scene } {
  const other = <T>(values: T[], current: T) => values.filter((v) => v !== current)[i % (values.length - 1)];
  const d = manifest.domain;
  const colors = Object.keys(d.palette);
  switch (kind) {
    case 0: {
      const color = other(colors.filter((c) => c !== scene.background), scene.color);
      return { instruction: `make the ${scene.shape} ${color}`, want: { ...scene, color } };
    }
    case 1: {
      const background = other(colors.filter((c) => c !== scene.color), scene.background);
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
  for (const [prompts, naming] of Object.entries(PROMPTS)) {
    const wrong: Record<string, number> = {};
    let right = 0;
    for (const [i, scene] of scenes(n, 0).entries()) {
      const named = naming(i);
      const want = namedBy(scene, named);
      const [image] = await model.generate(caption(scene, named), { seed: i, cfg, cfgMinRatio });
      const seen = inspect(image);
      if (agrees(want, seen)) right++;
      for (const a of ATTRS) if (want[a] !== undefined && want[a] !== seen[a]) wrong[a] = (wrong[a] ?? 0) + 1;
    }
    generateRows.push({
      prompts,
      cfg,
      cfgMinRatio,
      'named attributes right': pct(right, n),
      ...Object.fromEntries(ATTRS.map((a) => [`${a} wrong`, wrong[a] ?? 0])),
    });
  }
}
let weakSpot = 0;
for (let seed = 0; seed < 16; seed++) if (agrees(WEAK_SPOT, inspect((await model.generate(caption(WEAK_SPOT), { seed }))[0]))) weakSpot++;
console.log('generate (temperature 1, default guidance unless SWEEP says otherwise)');
console.table(generateRows);
console.log(`weak spot "${caption(WEAK_SPOT)}": right for ${weakSpot} of 16 seeds\n`);

const editRow: Record<string, string | number> = { cfg: editSettings.cfg, cfgMinRatio: editSettings.cfgMinRatio };
for (const [kind, name] of EDIT_KINDS.entries()) {
  let right = 0;
  for (const [i, scene] of scenes(n, 1 + kind).entries()) {
    const { instruction, want } = editOf(scene, kind, i);
    const [image] = await model.edit(render(scene), instruction, { seed: i });
    if (agrees(want, inspect(image))) right++;
  }
  editRow[name] = pct(right, n);
}
console.log('edit, by kind (the asked attribute changed, every other kept; temperature 1)');
console.table([editRow]);

const understanding = [];
for (const kind of IMAGE_KINDS) {
  let captions = 0;
  let ranked = 0;
  for (const [i, scene] of scenes(n, 2).entries()) {
    const image = await userImage(scene, kind, i);
    if ((await model.caption(image)) === caption(scene)) captions++;
    if ((await model.score(image, caption(scene))) > (await model.score(image, changedCaption(scene, i)))) ranked++;
  }
  understanding.push({ images: kind, 'caption exact': pct(captions, n), 'score ranks the right caption first': pct(ranked, n) });
}
console.log('caption (greedy) and score, by kind of image: clean (0-3 px jitter), JPEG q50-95, resampled to 16-256 px');
console.log('(nearest/linear/cubic/mitchell/lanczos3; the runtime resizes back), shifted by up to 3 px, noise sigma 1-12');
console.table(understanding);
await runtime.close();
