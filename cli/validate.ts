import type { Command } from 'commander';
import { loadCatalog } from './lazy';
import { parseSetting, readWorkflowFile } from './workflow-file';

export function registerValidate(program: Command): void {
  program
    .command('validate <workflow>')
    .description('check a workflow file and print every problem (exit 1 when there is one)')
    .option('--set <key=value>', 'run input to apply before checking (repeatable)', parseSetting, {})
    .action(async (file: string, options: { set: Record<string, unknown> }) => {
      const [workflow, { buildGraph, formatIssue }, catalog] = await Promise.all([readWorkflowFile(file), import('../engine'), loadCatalog()]);
      const result = buildGraph(workflow, catalog, options.set);
      if (result.ok) {
        console.log(`${file}: ok (${result.graph.nodes.size} nodes)`);
        return;
      }
      for (const issue of result.issues) console.error(`${file}: ${formatIssue(issue)}`);
      process.exitCode = 1;
    });
}
