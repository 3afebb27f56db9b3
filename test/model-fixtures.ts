import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../engine';
import { makeImage, type ImageValue } from '../engine/image';
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

export function caption(s: Scene): string {
  const where = s.position === 'center' ? 'in the center' : `at the ${s.position}`;
  return `a ${s.size} ${s.color} ${s.shape} ${where} on a ${s.background} background`;
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

/** An engine with the shipped catalog and its own model runtime (so session counts start at zero). */
export function modelEngine(options: ModelRuntimeOptions = {}) {
  const runtime = new ModelRuntime({ device: 'cpu', ...options });
  const engine = new Engine({ catalog, services: createServices({ allowFilePaths: true, models: runtime }) });
  return { engine, runtime };
}
