import { isImage, type ImageValue } from './image';
import type { PortValues } from './node';

/** Image memory a run may use, in pixels (an RGB pixel is 3 bytes, RGBA 4). */
export interface PixelLimits {
  /** Largest single image a node may make or load. */
  maxImagePixels: number;
  /** Sum of the pixels of every image the run holds at once (its nodes' outputs, and images being made). */
  runPixelBudget: number;
}

export const DEFAULT_PIXEL_LIMITS: PixelLimits = {
  maxImagePixels: 4096 * 4096,
  runPixelBudget: 4 * 4096 * 4096,
};

/** What a node sees of the budget: it reserves an image's pixels before making it, so memory is refused before it is taken. */
export interface ImageBudget {
  readonly maxPixels: number;
  /** Throws, saying which limit, when a width × height image does not fit. */
  reserve(width: number, height: number): void;
}

/**
 * One run's image accounting. Every image output is counted once however many nodes pass it on;
 * a node's reservations count until its outputs are held in their place.
 */
export class PixelBudget {
  private live = 0;
  private readonly held = new Set<ImageValue>();
  private readonly reserved = new Map<string, number>();

  constructor(readonly limits: PixelLimits) {}

  forNode(nodeId: string): ImageBudget {
    return {
      maxPixels: this.limits.maxImagePixels,
      reserve: (width, height) => {
        const pixels = this.checkImage(width, height);
        this.admit(pixels);
        this.reserved.set(nodeId, (this.reserved.get(nodeId) ?? 0) + pixels);
      },
    };
  }

  /** Swaps a node's reservations for the images it output; throws when they do not fit. */
  hold(nodeId: string, outputs: PortValues): void {
    this.release(nodeId);
    const images = imagesIn(outputs);
    if (images.length === 0) return;
    let added = 0;
    const fresh: ImageValue[] = [];
    for (const image of images) {
      if (this.held.has(image) || fresh.includes(image)) continue;
      added += this.checkImage(image.width, image.height);
      fresh.push(image);
    }
    this.admit(added);
    for (const image of fresh) this.held.add(image);
  }

  /** A node that failed holds nothing. */
  release(nodeId: string): void {
    if (this.reserved.size === 0) return;
    this.live -= this.reserved.get(nodeId) ?? 0;
    this.reserved.delete(nodeId);
  }

  private checkImage(width: number, height: number): number {
    const pixels = width * height;
    if (pixels > this.limits.maxImagePixels) {
      throw new Error(`a ${width}×${height} image (${pixels} pixels) is over the limit of ${this.limits.maxImagePixels} pixels per image`);
    }
    return pixels;
  }

  private admit(pixels: number): void {
    if (this.live + pixels > this.limits.runPixelBudget) {
      throw new Error(
        `${pixels} more pixels of images would bring the run to ${this.live + pixels}, over its budget of ${this.limits.runPixelBudget} pixels`,
      );
    }
    this.live += pixels;
  }
}

/** The images among a node's outputs, lists included (a plain loop, and no array for the usual node, which outputs none: this runs for every node of every run). */
function imagesIn(outputs: PortValues): readonly ImageValue[] {
  let images: ImageValue[] | undefined;
  for (const key in outputs) {
    if (!Object.hasOwn(outputs, key)) continue;
    const value = outputs[key];
    if (!Array.isArray(value)) {
      if (isImage(value)) (images ??= []).push(value);
      continue;
    }
    for (const item of value) if (isImage(item)) (images ??= []).push(item);
  }
  return images ?? NO_IMAGES;
}

const NO_IMAGES: readonly ImageValue[] = Object.freeze([]);
