// The zod param fragments several nodes share: the default model, a model node's `model` param and
// sampling params, and an output node's result name. Each is written here once.
import { z } from 'zod';
import type { TaskName } from '../engine/runtime';

/** The model a model node uses unless its `model` param names another: the shipped, offline one. */
export const DEFAULT_MODEL = 'tiny-shapes';

/**
 * A model node's `model` param. Its JSON schema carries the node's task (`x-picflow-task`), so an
 * editor can offer only the models whose `tasks` in GET /api/models include it.
 */
export function modelParam(task: TaskName) {
  return z.string().min(1).max(128).default(DEFAULT_MODEL).describe('model name (see GET /api/models)').meta({ 'x-picflow-task': task });
}

/** Sampling params shared by generate and edit; unset ones take the model's own defaults. */
export const samplingParams = (task: 'generate' | 'edit') =>
  z.object({
    model: modelParam(task),
    seed: z.int().min(0).max(2 ** 32 - 1).default(0),
    count: z.int().min(1).max(16).default(1),
    cfg: z.number().min(1).max(20).optional().describe('guidance scale (1 = none); default: the model\'s'),
    temperature: z.number().min(0).max(5).optional().describe('0 = greedy; default: the model\'s'),
    topK: z.int().min(0).max(100_000).optional().describe('0 = off; default: the model\'s'),
    topP: z.number().gt(0).max(1).optional().describe('1 = off; default: the model\'s'),
  });

/** An output node's result name (save-image, preview, output). */
export const outputNameParam = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_-]*$/, 'use letters, digits, _ and -')
  .default('')
  .describe('name of the result (file name prefix); the node id when empty');
