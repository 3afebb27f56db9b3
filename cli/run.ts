import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { createServices, Engine, WorkflowError } from '../engine';
import { catalog } from '../nodes';
import { deviceOption, hostModelRuntime, modelsOption, type ModelHostOptions } from './options';
import { progressReporter } from './progress';
import { writeOutputs } from './write-outputs';
import { parseSetting, readWorkflowFile } from './workflow-file';

export function registerRun(program: Command): void {
  program
    .command('run <workflow>')
    .description('run a workflow file and write its results')
    .option('--set <key=value>', 'run input: a named prompt (subject=…) or a node param (g.seed=3); repeatable', parseSetting, {})
    .option('--out <dir>', 'folder for outputs.json and the images', 'out')
    .option('--data <dir>', 'data folder (its models/ sub-folder holds models unless --models says otherwise)', './data')
    .addOption(modelsOption())
    .addOption(deviceOption())
    .action(async (file: string, options: { set: Record<string, unknown>; out: string; data: string } & ModelHostOptions) => {
      const workflow = await readWorkflowFile(file);
      const models = hostModelRuntime(options, options.data);
      const engine = new Engine({ catalog, services: createServices({ allowFilePaths: true, baseDir: dirname(resolve(file)), models }) });
      const cancel = new AbortController();
      process.once('SIGINT', () => cancel.abort());
      const progress = progressReporter();
      try {
        const result = await engine.run(workflow, { inputs: options.set, signal: cancel.signal, onEvent: progress.listener });
        progress.stop();
        if (result.status !== 'succeeded') {
          console.error(result.error ? result.error.message : `run ${result.status}`);
          process.exitCode = result.status === 'cancelled' ? 130 : 1;
          return;
        }
        for (const path of await writeOutputs(options.out, result.outputs)) console.log(path);
      } catch (err) {
        progress.stop();
        if (!(err instanceof WorkflowError)) throw err;
        for (const line of err.message.split('\n')) console.error(line);
        process.exitCode = 1;
      }
    });
}
