// Run values as JSON: images become artifact references (and back to inline PNGs where asked).
import type { RunOutput } from '../engine/executor';
import { isImage, type ImageValue } from '../engine/image';
import type { PortValues } from '../engine/node';
import type { ImageRef, JsonValue } from '../engine/contract';
import type { ArtifactStore } from './artifacts';

export type { JsonValue };

/** Where images go to become artifacts: the server's store, or a worker's hand-over to the server. */
export interface ImageSink {
  imageRef(image: ImageValue): Promise<ImageRef>;
}

/** Values already in JSON form (a worker's outputs, images as references) come through unchanged. */
export async function toJsonValue(value: unknown, artifacts: ImageSink): Promise<JsonValue> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => toJsonValue(item, artifacts)));
  if (isImage(value)) return artifacts.imageRef(value);
  if (isImageRef(value)) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return value === undefined || value === null ? null : String(value);
}

export async function toJsonPorts(values: PortValues, artifacts: ImageSink): Promise<Record<string, JsonValue>> {
  const entries = await Promise.all(Object.entries(values).map(async ([port, value]) => [port, await toJsonValue(value, artifacts)] as const));
  return Object.fromEntries(entries);
}

/** A run's outputs (by name) with their values as JSON. */
export async function toJsonOutputs(outputs: Record<string, RunOutput>, artifacts: ImageSink): Promise<Record<string, RunOutput & { value: JsonValue }>> {
  const entries = await Promise.all(Object.entries(outputs).map(async ([name, o]) => [name, { ...o, value: await toJsonValue(o.value, artifacts) }] as const));
  return Object.fromEntries(entries);
}

export function isImageRef(value: unknown): value is ImageRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as ImageRef).artifact === 'string';
}

/** Adds each image's PNG as base64 (`?inline=1` on hooks), for callers that cannot fetch artifacts. */
export async function inlineImages(value: JsonValue, artifacts: ArtifactStore): Promise<JsonValue> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => inlineImages(item, artifacts)));
  if (!isImageRef(value)) return value;
  const bytes = await artifacts.read(value.artifact);
  return { ...value, base64: Buffer.from(bytes).toString('base64') } as ImageRef;
}

/** Every image reference in JSON values (lists walked). */
export function imageRefsIn(values: unknown[]): ImageRef[] {
  const refs: ImageRef[] = [];
  const stack = [...values];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) stack.push(...value);
    else if (isImageRef(value)) refs.push(value);
  }
  return refs;
}
