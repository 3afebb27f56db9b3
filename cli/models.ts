import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { ModelReport } from '../engine/runtime';
import { deviceOption, modelsFolder, modelsOption, type ModelHostOptions } from './options';

/** The model runtime, imported by the `models` commands when they run (not when the CLI starts). */
const runtimeFor = async (options: Options) => (await import('./model-host')).hostModelRuntime(options, options.data);

type Options = ModelHostOptions & { data: string };

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function row(m: ModelReport) {
  return { name: m.name, format: m.format, tasks: m.tasks.join(', '), dtype: m.dtype ?? '-', size: megabytes(m.sizeBytes), loaded: m.loaded ? 'yes' : 'no' };
}

/** `picflow models`: list, inspect and pull models. */
export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('list the models (name, format, tasks, size, device); see also `models inspect` and `models pull`')
    .option('--data <dir>', 'data folder (its models/ sub-folder holds models unless --models says otherwise)', './data')
    .addOption(modelsOption())
    .addOption(deviceOption())
    .option('--json', 'print what GET /api/models reports')
    .action(async (options: Options & { json?: boolean }) => {
      const report = await (await runtimeFor(options)).describe();
      if (options.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      console.log(`device: ${report.device.provider} (${report.device.reason}); model calls on up to ${report.maxLanes} lane(s) (PICFLOW_LANES)`);
      console.table(report.models.map(row));
      for (const p of report.problems) console.error(`${p.name}: ${p.error}`);
    });

  models
    .command('inspect <name>')
    .description('check one model folder: names every missing or mismatched file (exit 1 when there is one)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<Options>();
      const runtime = await runtimeFor(options);
      const problems = await runtime.inspect(name);
      if (problems.length > 0) {
        for (const problem of problems) console.error(`${name}: ${problem}`);
        process.exitCode = 1;
        return;
      }
      const found = runtime.find(name);
      console.log(`${name}: ok (${found.format}${found.dtype ? `, ${found.dtype}` : ''}; tasks: ${found.tasks.join(', ')}; ${found.dir})`);
    });

  models
    .command('pull <id>')
    .description('download a Hugging Face ONNX export (e.g. onnx-community/Janus-Pro-1B-ONNX) into the models folder')
    .option('--dtype <dtype>', 'which precision of the graphs to download: fp32, fp16, q8, q4, q4f16…', 'fp32')
    .option('--name <name>', 'the model folder (and node `model` param) name; default: the id after its owner')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<Options & { dtype: string; name?: string }>();
      const name = options.name ?? basename(id);
      const dir = join(modelsFolder(options, options.data), name);
      const { pullModel } = await import('./hub');
      const files = await pullModel(id, dir, options.dtype);
      const problems = await (await runtimeFor(options)).inspect(name);
      for (const problem of problems) console.error(`${name}: ${problem}`);
      if (problems.length > 0) process.exitCode = 1;
      else console.log(`${name}: ${files.length} files in ${dir}`);
    });
}
