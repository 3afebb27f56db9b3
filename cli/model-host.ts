import { ModelRuntime, runtimeOptionsFromEnv } from '../engine/runtime';
import { modelsFolder, type ModelHostOptions } from './options';

// Apart from options.ts, which declares the commands: the runtime is imported only by commands that run models.
/** The model runtime a CLI command builds and hands to the engine (threads and memory budget from the environment). */
export function hostModelRuntime(options: ModelHostOptions, dataDir: string): ModelRuntime {
  const env = runtimeOptionsFromEnv();
  return new ModelRuntime({ ...env, device: options.device ?? env.device, modelDirs: [modelsFolder(options, dataDir)] });
}
