import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { RunOutput } from '../engine';
import { loadCatalog } from './lazy';
import { deviceOption, modelsOption, type ModelHostOptions } from './options';
import { parseSetting, readWorkflowSource } from './workflow-file';

/** Text, number and boolean outputs, one `name: value` line each (images are listed by path). */
function plainOutputLines(outputs: Record<string, RunOutput>): string[] {
  const lines: string[] = [];
  for (const [name, output] of Object.entries(outputs)) {
    if (output.kind === 'preview') continue;
    const { value } = output;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') lines.push(`${name}: ${value}`);
  }
  return lines;
}

export function registerRun(program: Command): void {
  program
    .command('run <workflow>')
    .description('run a workflow file (or a PNG picflow wrote, which carries its workflow) and write its results')
    .option('--set <key=value>', 'run input: a named prompt (subject=…) or a node param (g.seed=3); repeatable', parseSetting, {})
    .option('--out <dir>', 'folder for outputs.json and the images', 'out')
    .option('--data <dir>', 'data folder (its models/ sub-folder holds models unless --models says otherwise)', './data')
    .addOption(modelsOption())
    .addOption(deviceOption())
    .action(async (file: string, options: { set: Record<string, unknown>; out: string; data: string } & ModelHostOptions) => {
      const [{ createServices, Engine, WorkflowError }, catalog, { hostModelRuntime }, { progressReporter }, { writeOutputs }] = await Promise.all([
        import('../engine'),
        loadCatalog(),
        import('./model-host'),
        import('./progress'),
        import('./write-outputs'),
      ]);
      const source = await readWorkflowSource(file, catalog);
      const inputs = { ...source.inputs, ...options.set };
      const models = hostModelRuntime(options, options.data);
      const engine = new Engine({ catalog, services: createServices({ allowFilePaths: true, baseDir: dirname(resolve(file)), models }) });
      const cancel = new AbortController();
      process.once('SIGINT', () => cancel.abort());
      const progress = progressReporter();
      try {
        const result = await engine.run(source.workflow, { inputs, signal: cancel.signal, onEvent: progress.listener });
        progress.stop();
        if (result.status !== 'succeeded') {
          console.error(result.error ? result.error.message : `run ${result.status}`);
          process.exitCode = result.status === 'cancelled' ? 130 : 1;
          return;
        }
        for (const line of plainOutputLines(result.outputs)) console.log(line);
        for (const path of await writeOutputs(options.out, result.outputs, { workflow: source.workflow, inputs })) console.log(path);
      } catch (err) {
        progress.stop();
        if (!(err instanceof WorkflowError)) throw err;
        for (const line of err.message.split('\n')) console.error(line);
        process.exitCode = 1;
      }
    });
}
