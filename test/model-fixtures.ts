import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Engine } from '../engine';
import { decodeImage, makeImage, type ImageValue } from '../engine/image';
import { createServices } from '../engine/services';
import { ModelRuntime, SHIPPED_MODELS_DIR, type ModelRuntimeOptions } from '../engine/runtime';
import { catalog } from '../nodes';

/** The tiny-shapes domain as its manifest states it; scenes are drawn exactly as the training renderer draws them. */
export const bundleDir = join(SHIPPED_MODELS_DIR, 'tiny-shapes');
export const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8'));
const domain = manifest.domain as {
  palette: Record<string, [number, number, number]>;
  shapes: string[];
  sizes: Record<string, number>;
  positions: string[];
};
export const COLORS = Object.keys(domain.palette);
const GRID = [8, 16, 24];

export interface Scene {
  size: string;
  color: string;
  shape: string;
  position: string;
  background: string;
  dx?: number;
  dy?: number;
}

/** Held-out (size, colour, shape, position, background) combinations: never seen in training. */
export const heldout: Scene[] = (manifest.training.heldout.combinations as string[][]).map(
  ([size, color, shape, position, background]) => ({ size, color, shape, position, background }),
);

/** `n` held-out scenes spread over the list, with a small deterministic jitter. */
export function heldoutSample(n: number): Scene[] {
  return Array.from({ length: n }, (_, i) => ({ ...heldout[Math.floor((i * heldout.length) / n)], dx: (i % 5) - 2, dy: ((i * 3) % 5) - 2 }));
}

export function render(scene: Scene): ImageValue {
  const e = domain.sizes[scene.size];
  const p = domain.positions.indexOf(scene.position);
  const half = Math.floor(e / 2);
  const clamp = (v: number) => Math.min(Math.max(v, half), 32 - (e - half));
  const cx = clamp(GRID[p % 3] + (scene.dx ?? 0));
  const cy = clamp(GRID[Math.floor(p / 3)] + (scene.dy ?? 0));
  const x0 = cx - half;
  const y0 = cy - half;
  const r = e / 2;
  const data = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const xs = x + 0.5;
      const ys = y + 0.5;
      const inBox = xs >= x0 && xs < x0 + e && ys >= y0 && ys < y0 + e;
      const inside =
        scene.shape === 'square'
          ? inBox
          : scene.shape === 'circle'
            ? (xs - (x0 + r)) ** 2 + (ys - (y0 + r)) ** 2 <= r * r
            : inBox && Math.abs(xs - (x0 + r)) <= ((ys - y0) / e) * r + 1e-9;
      data.set(domain.palette[inside ? scene.color : scene.background], (y * 32 + x) * 3);
    }
  }
  return makeImage(32, 32, 3, data);
}

/** What users bring instead of picflow's renders; the same kinds as the training's degrade.py. */
export const IMAGE_KINDS = ['clean', 'jpeg', 'resampled', 'shifted', 'noisy'] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];
const KERNELS = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos3'] as const;

/** A deterministic stream of uniform numbers in (0, 1) (an LCG): varied inputs without a dependency. */
function uniform(seed: number): () => number {
  let state = (seed * 7919 + 1) % 2147483648;
  return () => ((state = (state * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
}

/**
 * The `i`-th image of `kind` for a scene: a render (0-3 px jitter), JPEG at quality 50-95, resampled
 * to 16-256 px with one of sharp's kernels (left at that size: the runtime resizes it back), the
 * whole image shifted by up to 3 px (the border filled with the background; the object at most
 * 3 px from its grid centre), or Gaussian noise of sigma 1-12.
 */
export async function userImage(scene: Scene, kind: ImageKind, i: number): Promise<ImageValue> {
  const u = uniform(i + 1);
  const raw = (img: ImageValue) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  switch (kind) {
    case 'clean':
      return render(scene);
    case 'jpeg':
      return decodeImage(await raw(render(scene)).jpeg({ quality: 50 + Math.floor(u() * 46) }).toBuffer());
    case 'resampled': {
      const size = 16 + Math.floor(u() * 241);
      const kernel = KERNELS[Math.floor(u() * KERNELS.length)];
      const data = await raw(render(scene)).resize(size, size, { kernel, fit: 'fill' }).raw().toBuffer();
      return makeImage(size, size, 3, new Uint8Array(data));
    }
    case 'shifted': {
      let [dx, dy] = [0, 0];
      while (dx === 0 && dy === 0) [dx, dy] = [Math.floor(u() * 7) - 3, Math.floor(u() * 7) - 3];
      const limit = (j: number | undefined, d: number) => Math.max(-3, Math.min(3, (j ?? 0) + d)) - d;
      const img = render({ ...scene, dx: limit(scene.dx, dx), dy: limit(scene.dy, dy) });
      const out = new Uint8Array(img.data.length);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const [sx, sy] = [x - dx, y - dy];
          const inside = sx >= 0 && sx < 32 && sy >= 0 && sy < 32;
          out.set(inside ? img.data.subarray((sy * 32 + sx) * 3, (sy * 32 + sx) * 3 + 3) : domain.palette[scene.background], (y * 32 + x) * 3);
        }
      }
      return makeImage(32, 32, 3, out);
    }
    case 'noisy': {
      const sigma = 1 + u() * 11;
      const gauss = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
      return makeImage(32, 32, 3, render(scene).data.map((v) => Math.max(0, Math.min(255, Math.round(v + sigma * gauss())))));
    }
  }
}

/** The grammar's description of a scene; size, position and background may be left out (a partial prompt). */
export function caption(s: Scene, named: { size?: boolean; position?: boolean; background?: boolean } = {}): string {
  const where = s.position === 'center' ? 'in the center' : `at the ${s.position}`;
  const size = named.size === false ? '' : `${s.size} `;
  const background = named.background === false ? '' : ` on a ${s.background} background`;
  return `a ${size}${s.color} ${s.shape}${named.position === false ? '' : ` ${where}`}${background}`;
}

/** The caption with one attribute (chosen by `k`) changed to another valid value. */
export function changedCaption(s: Scene, k: number): string {
  const options: Record<string, string[]> = {
    size: Object.keys(domain.sizes),
    color: COLORS.filter((c) => c !== s.background),
    shape: domain.shapes,
    position: domain.positions,
    background: COLORS.filter((c) => c !== s.color),
  };
  const attr = Object.keys(options)[k % 5] as keyof Scene;
  const others = options[attr].filter((v) => v !== s[attr]);
  return caption({ ...s, [attr]: others[k % others.length] });
}

/** Shape, object colour and background that a caption names. */
export function named(text: string): { shape?: string; color?: string; background?: string } {
  const words = text.split(' ');
  const colors = words.filter((w) => COLORS.includes(w));
  return {
    shape: words.find((w) => domain.shapes.includes(w)),
    color: colors.length > 1 ? colors[0] : undefined,
    background: words[words.length - 1] === 'background' ? words[words.length - 2] : undefined,
  };
}

/** The palette colour nearest to each pixel of a 32×32 RGB image. */
function snap(image: ImageValue): string[] {
  const names: string[] = [];
  for (let i = 0; i < 32 * 32; i++) {
    const px = image.data.subarray(i * image.channels, i * image.channels + 3);
    let best = COLORS[0];
    let bestD = Infinity;
    for (const c of COLORS) {
      const d = domain.palette[c].reduce((sum, v, j) => sum + (v - px[j]) ** 2, 0);
      if (d < bestD) [best, bestD] = [c, d];
    }
    names.push(best);
  }
  return names;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

/** The most common colour among the border pixels of snapped `names`. */
function borderOf(names: string[]): string {
  return mostCommon(names.filter((_, i) => i % 32 === 0 || i % 32 === 31 || i < 32 || i >= 31 * 32));
}

/** The palette colour most of the image's border pixels are nearest to. */
export function borderColor(image: ImageValue): string {
  return borderOf(snap(image));
}

/**
 * What a rule-based reader sees in an image, as the training's checker (domain.check) does: the
 * background is the border's colour, the object the rest; its box centre's nearest grid cell is the
 * position (so a jittered object stays in its cell), an extent of 11 px or more is large, and the
 * share of its box it fills tells the shape. Nothing comes from the model.
 */
export function inspect(image: ImageValue): Partial<Scene> {
  const names = snap(image);
  const background = borderOf(names);
  const object: string[] = [];
  let [x0, x1, y0, y1] = [32, -1, 32, -1];
  names.forEach((c, i) => {
    if (c === background) return;
    object.push(c);
    const [x, y] = [i % 32, Math.floor(i / 32)];
    [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  });
  if (object.length < 4) return { background };
  const nearest = (v: number) => GRID.reduce((best, g, i) => (Math.abs(v - g) < Math.abs(v - GRID[best]) ? i : best), 0);
  const [w, h] = [x1 - x0 + 1, y1 - y0 + 1];
  const fill = object.length / (w * h);
  return {
    background,
    color: mostCommon(object),
    position: domain.positions[nearest((y0 + y1 + 1) / 2) * 3 + nearest((x0 + x1 + 1) / 2)],
    size: Math.max(w, h) >= 11 ? 'large' : 'small',
    shape: fill > 0.9 ? 'square' : fill > 0.65 ? 'circle' : 'triangle',
  };
}

/** prompt → generate → output with the given seed: one tiny-shapes image. */
export const generateWorkflow = (seed: number) => ({
  version: 1,
  nodes: {
    p: { type: 'prompt', params: { text: 'a green triangle on a black background' } },
    g: { type: 'generate', params: { seed }, inputs: { prompt: ['p', 'text'] } },
    out: { type: 'output', inputs: { value: ['g', 'image'] } },
  },
});

/** An engine with the shipped catalog and its own model runtime (so session counts start at zero). */
export function modelEngine(options: ModelRuntimeOptions = {}) {
  const runtime = new ModelRuntime({ device: 'cpu', ...options });
  const engine = new Engine({ catalog, services: createServices({ allowFilePaths: true, models: runtime }) });
  return { engine, runtime };
}
