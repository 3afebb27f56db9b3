import type { Services } from '../services';
import type { TaskName } from './manifest';
import type { ImageModel } from './unified-ar';

export { ModelRuntime, sharedModelRuntime, runtimeOptionsFromEnv, type ModelRuntimeOptions, type ModelsReport } from './runtime';
export type { ImageModel, GenerateOptions, CaptionOptions, CallOptions, CallStats } from './unified-ar';
export type { TaskName } from './manifest';
export { BundleError, readBundle } from './manifest';
export { normalizeWords } from './tokenizer';
export { chooseProvider, type DeviceRequest, type ProviderChoice } from './provider';
export { modelDirs, SHIPPED_MODELS_DIR } from './registry';

/** The model a node asked for, checked to support the task; errors name the model and what it can do. */
export async function modelFor(services: Services, name: string, task: TaskName): Promise<ImageModel> {
  if (!services.models) throw new Error('no model runtime is available in this host');
  const model = await services.models.model(name);
  if (!model.tasks.includes(task)) {
    throw new Error(`model '${name}' cannot ${task} (it supports: ${model.tasks.join(', ')})`);
  }
  return model;
}
