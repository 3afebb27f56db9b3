// Workflow-carrying PNGs: the workflow JSON and the run inputs that made an image, stored in
// compressed iTXt chunks (PNG spec 11.3.4.5) that any PNG tool lists by keyword. Pure and
// dependency-light (web compression streams, no Node APIs) so the editor reads dropped files with it too.

import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';

/** The iTXt keywords picflow writes (Latin-1, 1–79 bytes, as the spec requires). */
export const PNG_KEYS = { workflow: 'picflow-workflow', inputs: 'picflow-inputs' } as const;

export interface PngWorkflow {
  workflow: unknown;
  inputs: Record<string, unknown>;
}

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const utf8 = new TextEncoder();

async function through(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([Uint8Array.from(bytes)]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** One compressed iTXt chunk: keyword, NUL, flag 1 (compressed), method 0 (zlib), empty language and translated keyword. */
async function iTXt(keyword: string, text: string): Promise<{ name: string; data: Uint8Array }> {
  const head = latin1(`${keyword}\0\x01\x00\0\0`);
  const body = await through(utf8.encode(text), new CompressionStream('deflate'));
  const data = new Uint8Array(head.length + body.length);
  data.set(head);
  data.set(body, head.length);
  return { name: 'iTXt', data };
}

/** Reads an iTXt chunk's keyword and text (compressed or not); null for a malformed chunk. */
async function readITXt(data: Uint8Array): Promise<{ keyword: string; text: string } | null> {
  const end = data.indexOf(0);
  if (end <= 0 || end + 2 >= data.length) return null;
  const keyword = String.fromCharCode(...data.subarray(0, end));
  const compressed = data[end + 1] === 1;
  const language = data.indexOf(0, end + 3);
  const translated = language < 0 ? -1 : data.indexOf(0, language + 1);
  if (translated < 0) return null;
  const body = data.subarray(translated + 1);
  const bytes = compressed ? await through(body, new DecompressionStream('deflate')) : body;
  return { keyword, text: new TextDecoder().decode(bytes) };
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

/**
 * The PNG with the workflow and inputs in iTXt chunks just before IEND; chunks of an earlier write
 * with the same keywords are replaced, so re-saving never stacks them.
 */
export async function withWorkflow(png: Uint8Array, meta: PngWorkflow): Promise<Uint8Array> {
  const keys = new Set<string>(Object.values(PNG_KEYS));
  const chunks = [];
  for (const chunk of extractChunks(png)) {
    if (chunk.name === 'iTXt' && keys.has(((await readITXt(chunk.data)) ?? { keyword: '' }).keyword)) continue;
    chunks.push(chunk);
  }
  const added = [await iTXt(PNG_KEYS.workflow, JSON.stringify(meta.workflow)), await iTXt(PNG_KEYS.inputs, JSON.stringify(meta.inputs))];
  chunks.splice(chunks.length - 1, 0, ...added);
  return encodeChunks(chunks);
}

/** The workflow and inputs a PNG carries, or null when it carries none (or is not a PNG). */
export async function readWorkflow(png: Uint8Array): Promise<PngWorkflow | null> {
  if (!isPng(png)) return null;
  let chunks: { name: string; data: Uint8Array }[];
  try {
    chunks = extractChunks(png);
  } catch {
    return null;
  }
  const texts = new Map<string, string>();
  for (const chunk of chunks) {
    if (chunk.name !== 'iTXt') continue;
    const entry = await readITXt(chunk.data).catch(() => null);
    if (entry) texts.set(entry.keyword, entry.text);
  }
  const workflow = texts.get(PNG_KEYS.workflow);
  if (workflow === undefined) return null;
  try {
    const inputs = JSON.parse(texts.get(PNG_KEYS.inputs) ?? '{}');
    return { workflow: JSON.parse(workflow), inputs: inputs && typeof inputs === 'object' && !Array.isArray(inputs) ? inputs : {} };
  } catch {
    return null;
  }
}
