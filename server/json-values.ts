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
  return scalarJson(value);
}

/** A value that is neither a list nor an image, as JSON. */
function scalarJson(value: unknown): JsonValue {
  if (isImageRef(value)) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return value === undefined || value === null ? null : String(value);
}

/** A value as JSON at once when it holds no image to store (undefined when it does). */
function jsonValueNow(value: unknown): JsonValue | undefined {
  if (isImage(value)) return undefined;
  if (!Array.isArray(value)) return scalarJson(value);
  const items: JsonValue[] = [];
  for (const item of value) {
    const json = jsonValueNow(item);
    if (json === undefined) return undefined;
    items.push(json);
  }
  return items;
}

/**
 * Ports as JSON: at once, without a promise, when no value holds an image (most events of a busy trigger
 * server), else once every image is an artifact.
 */
export function toJsonPorts(values: PortValues, artifacts: ImageSink): Record<string, JsonValue> | Promise<Record<string, JsonValue>> {
  const entries: [string, JsonValue][] = [];
  for (const [port, value] of Object.entries(values)) {
    const json = jsonValueNow(value);
    if (json === undefined) return toJsonPortsLater(values, artifacts);
    entries.push([port, json]);
  }
  return Object.fromEntries(entries);
}

async function toJsonPortsLater(values: PortValues, artifacts: ImageSink): Promise<Record<string, JsonValue>> {
  const entries = await Promise.all(Object.entries(values).map(async ([port, value]) => [port, await toJsonValue(value, artifacts)] as const));
  return Object.fromEntries(entries);
}

type JsonOutputs = Record<string, RunOutput & { value: JsonValue }>;

/** A run's outputs (by name) with their values as JSON (toJsonPorts: at once when none holds an image). */
export function toJsonOutputs(outputs: Record<string, RunOutput>, artifacts: ImageSink): JsonOutputs | Promise<JsonOutputs> {
  const named = Object.entries(outputs);
  const values = toJsonPorts(Object.fromEntries(named.map(([name, output]) => [name, output.value])), artifacts);
  // fromEntries defines own properties, so an output named `__proto__` is just a name here too.
  const withValues = (json: Record<string, JsonValue>): JsonOutputs => Object.fromEntries(named.map(([name, output]) => [name, { ...output, value: json[name] }]));
  return values instanceof Promise ? values.then(withValues) : withValues(values);
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
