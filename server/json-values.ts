import { isImage } from '../engine/image';
import type { PortValues } from '../engine/node';
import type { ArtifactStore, ImageRef } from './artifacts';

/** A run value as JSON: images become artifact references, lists stay lists. */
export type JsonValue = string | number | boolean | null | ImageRef | JsonValue[];

export async function toJsonValue(value: unknown, artifacts: ArtifactStore): Promise<JsonValue> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => toJsonValue(item, artifacts)));
  if (isImage(value)) return artifacts.imageRef(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return value === undefined || value === null ? null : String(value);
}

export async function toJsonPorts(values: PortValues, artifacts: ArtifactStore): Promise<Record<string, JsonValue>> {
  const entries = await Promise.all(Object.entries(values).map(async ([port, value]) => [port, await toJsonValue(value, artifacts)] as const));
  return Object.fromEntries(entries);
}

function isImageRef(value: unknown): value is ImageRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as ImageRef).artifact === 'string';
}

/** Adds each image's PNG as base64 (`?inline=1` on hooks), for callers that cannot fetch artifacts. */
export async function inlineImages(value: JsonValue, artifacts: ArtifactStore): Promise<JsonValue> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => inlineImages(item, artifacts)));
  if (!isImageRef(value)) return value;
  const bytes = await artifacts.read(value.artifact);
  return { ...value, base64: Buffer.from(bytes).toString('base64') } as ImageRef;
}
