import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
export type Provider = 'cpu' | 'cuda';

export interface ProviderChoice {
  provider: Provider;
  /** Why this provider: shown by `GET /api/models` and the CLI. */
  reason: string;
}

const CUDA_LIB = 'libonnxruntime_providers_cuda.so';

/** onnxruntime-node ships the CUDA provider only when installed with ONNXRUNTIME_NODE_INSTALL=cuda12. */
function cudaLibraryInstalled(): boolean {
  const pkg = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  const stack = [join(pkg, 'bin')];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) stack.push(join(dir, entry.name));
      else if (entry.name === CUDA_LIB) return true;
    }
  }
  return false;
}

/** CUDA when requested (or `auto`) and usable, else CPU; the reason says which check decided. */
export function chooseProvider(requested: DeviceRequest): ProviderChoice {
  if (requested === 'cpu') return { provider: 'cpu', reason: 'cpu requested' };
  const fallback = (why: string): ProviderChoice => ({ provider: 'cpu', reason: `${requested} requested, using cpu: ${why}` });
  if (process.platform !== 'linux' && process.platform !== 'win32') return fallback(`no CUDA build for ${process.platform}`);
  if (process.platform === 'linux' && !existsSync('/proc/driver/nvidia/version')) return fallback('no NVIDIA driver found');
  if (!cudaLibraryInstalled()) {
    return fallback('the onnxruntime-node CUDA provider is not installed (ONNXRUNTIME_NODE_INSTALL=cuda12 npm install)');
  }
  return { provider: 'cuda', reason: `${requested} requested and the CUDA provider is available` };
}
