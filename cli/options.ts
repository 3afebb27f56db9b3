import { join } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import type { DeviceRequest } from '../engine/runtime';

/** A commander parser for an integer option within [min, max]. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** `--redis <url>`, or PICFLOW_REDIS_URL: the Redis of the scale-out queue. */
export function redisOption(description: string): Option {
  return new Option('--redis <url>', description).env('PICFLOW_REDIS_URL');
}

/** `--models <dir>`, or PICFLOW_MODELS: the folder of models (one sub-folder each) beside the shipped ones. */
export function modelsOption(): Option {
  return new Option('--models <dir>', 'models folder, one sub-folder per model (default: <data>/models)').env('PICFLOW_MODELS');
}

/** `--device auto|cpu|cuda`, or PICFLOW_DEVICE. */
export function deviceOption(): Option {
  return new Option('--device <device>', 'where models run: auto picks CUDA when its provider loads, else CPU').choices(['auto', 'cpu', 'cuda']).env('PICFLOW_DEVICE');
}

export interface ModelHostOptions {
  models?: string;
  device?: DeviceRequest;
}

/** The models folder a host uses: `--models`/PICFLOW_MODELS, else `models/` in the data folder. */
export function modelsFolder(options: ModelHostOptions, dataDir: string): string {
  return options.models ?? join(dataDir, 'models');
}
