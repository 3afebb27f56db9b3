// The models in a `GET /api/models` answer as the model dropdown needs them: name and tasks.
import type { ModelChoice } from './types';

export function modelChoicesOf(report: unknown): ModelChoice[] {
  const models = (report as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return [];
  return models
    .map((model) => (model ?? {}) as { name?: unknown; tasks?: unknown })
    .filter((model): model is { name: string; tasks?: unknown } => typeof model.name === 'string')
    .map((model) => ({ name: model.name, tasks: Array.isArray(model.tasks) ? model.tasks.map(String) : [] }));
}
