import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { DTYPE_SUFFIX } from '../engine/runtime';

/** The Hugging Face hub to pull from: HF_ENDPOINT when set (mirrors, tests), else the public hub. */
export function hubEndpoint(env = process.env): string {
  return (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;
const ONNX_FILE = new RegExp(`^onnx/.+?(${Object.values(DTYPE_SUFFIX).filter(Boolean).join('|')})?\\.onnx(_data(_\\d+)?)?$`);

/** Which files of an export a pull takes: the root's config, processor and tokenizer files, and the graphs of one dtype. */
export function filesToPull(files: readonly string[], dtype: string): string[] {
  const suffix = DTYPE_SUFFIX[dtype];
  return files.filter((f) => {
    if (!f.includes('/')) return /\.(json|txt|model)$/.test(f);
    const match = ONNX_FILE.exec(f);
    return match !== null && (match[1] ?? '') === suffix;
  });
}

async function hubFetch(url: string, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${new URL(url).host} to ${what} (offline?): ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  if (!response.ok) throw new Error(`${what}: ${new URL(url).host} answered ${response.status} ${response.statusText}`);
  return response;
}

/**
 * Downloads an export of `id` (e.g. onnx-community/Janus-Pro-1B-ONNX) into `dir`, one dtype's
 * graphs only, with a progress bar; files land under a temporary name first, so an interrupted pull
 * leaves no half-written file under a real name. Records the dtype in picflow.json.
 */
export async function pullModel(id: string, dir: string, dtype: string, stream: NodeJS.WriteStream = process.stderr): Promise<string[]> {
  if (!HUB_ID.test(id)) throw new Error(`'${id}' is not a hub model id (owner/name)`);
  if (!(dtype in DTYPE_SUFFIX)) throw new Error(`--dtype must be one of ${Object.keys(DTYPE_SUFFIX).join(', ')}`);
  const base = hubEndpoint();
  const info = (await (await hubFetch(`${base}/api/models/${id}`, `look up ${id}`)).json()) as { siblings?: { rfilename: string }[] };
  const files = filesToPull((info.siblings ?? []).map((s) => s.rfilename), dtype);
  if (!files.some((f) => f.endsWith('.onnx'))) throw new Error(`${id} has no ${dtype} ONNX graphs (try another --dtype)`);
  const bar = new cliProgress.SingleBar(
    { stream, format: ' {file} |{bar}| {percentage}% {mb} MB', hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 },
    cliProgress.Presets.shades_classic,
  );
  for (const file of files) {
    const response = await hubFetch(`${base}/${id}/resolve/main/${file}`, `download ${file}`);
    const total = Number(response.headers.get('content-length') ?? 0);
    const target = join(dir, file);
    await mkdir(dirname(target), { recursive: true });
    let done = 0;
    bar.start(total || 1, 0, { file: file.padEnd(36), mb: (total / 1e6).toFixed(1) });
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream).on('data', (chunk: Buffer) => bar.update((done += chunk.length)));
    await pipeline(body, createWriteStream(`${target}.part`));
    await rename(`${target}.part`, target);
    bar.update(total || 1);
    bar.stop();
  }
  await writeFile(join(dir, 'picflow.json'), JSON.stringify({ source: id, dtype }, null, 2) + '\n');
  return files;
}
