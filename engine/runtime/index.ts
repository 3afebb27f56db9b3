import type { Services } from '../services';
import type { TaskName } from './manifest';
import { cannot } from './formats';
import type { ImageModel } from './model';

export { ModelRuntime, runtimeOptionsFromEnv, type ModelRuntimeOptions, type ModelsReport, type ModelReport } from './runtime';
export type { ImageModel, GenerateOptions, CaptionOptions, CallOptions, CallStats } from './model';
export { cannot, type FoundModel, type Vocabulary } from './formats';
export type { TaskName } from './manifest';
export { BundleError, readBundle } from './manifest';
export { normalizeWords } from './tokenizer';
export { chooseProvider, type DeviceRequest, type ProviderChoice } from './provider';
export { modelDirs, SHIPPED_MODELS_DIR, MODEL_FORMATS } from './registry';
export { DTYPE_SUFFIX } from './hf-files';

/** The model a node asked for, checked to support the task; errors name the model and what it can do. */
export async function modelFor(services: Services, name: string, task: TaskName): Promise<ImageModel> {
  if (!services.models) throw new Error('no model runtime is available in this host');
  const model = await services.models.model(name);
  if (!model.tasks.includes(task)) throw cannot(model, task);
  return model;
}
