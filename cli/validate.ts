import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { WorkflowIssue } from '../engine';
import { loadCatalog } from './lazy';
import { deviceOption, modelsOption, type ModelHostOptions } from './options';
import { parseSetting, readWorkflowSource } from './workflow-file';

export function registerValidate(program: Command): void {
  program
    .command('validate <workflow>')
    .description('check a workflow file (or a PNG picflow wrote) and print every problem (exit 1 when there is one)')
    .option('--set <key=value>', 'run input to apply before checking (repeatable)', parseSetting, {})
    .option('--data <dir>', 'data folder (its models/ sub-folder holds models unless --models says otherwise)', './data')
    .addOption(modelsOption())
    .addOption(deviceOption())
    .action(async (file: string, options: { set: Record<string, unknown>; data: string } & ModelHostOptions) => {
      const [{ createServices, Engine, formatIssue, WorkflowError }, catalog, { hostModelRuntime }] = await Promise.all([
        import('../engine'),
        loadCatalog(),
        import('./model-host'),
      ]);
      let errors: WorkflowIssue[];
      let workflow: unknown;
      try {
        // a file in ComfyUI's API format is converted first; what cannot be converted is named by node and field
        const source = await readWorkflowSource(file, catalog);
        workflow = source.workflow;
        // models are checked too: each model node's model exists and has its task
        const engine = new Engine({ catalog, services: createServices({ allowFilePaths: true, baseDir: dirname(resolve(file)), models: hostModelRuntime(options, options.data) }) });
        errors = engine.validate(workflow, { ...source.inputs, ...options.set }).errors;
      } catch (err) {
        if (!(err instanceof WorkflowError)) throw err;
        errors = err.issues;
      }
      if (errors.length === 0) {
        console.log(`${file}: ok (${Object.keys((workflow as { nodes: object }).nodes).length} nodes)`);
        return;
      }
      for (const issue of errors) console.error(`${file}: ${formatIssue(issue)}`);
      process.exitCode = 1;
    });
}
