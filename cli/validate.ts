import type { Command } from 'commander';
import { loadCatalog } from './lazy';
import { parseSetting, readWorkflowFile } from './workflow-file';

export function registerValidate(program: Command): void {
  program
    .command('validate <workflow>')
    .description('check a workflow file and print every problem (exit 1 when there is one)')
    .option('--set <key=value>', 'run input to apply before checking (repeatable)', parseSetting, {})
    .action(async (file: string, options: { set: Record<string, unknown> }) => {
      const [{ buildGraph, formatIssue, WorkflowError }, catalog] = await Promise.all([import('../engine'), loadCatalog()]);
      let result: ReturnType<typeof buildGraph>;
      try {
        result = buildGraph(await readWorkflowFile(file, catalog), catalog, options.set);
      } catch (err) {
        if (!(err instanceof WorkflowError)) throw err;
        result = { ok: false, issues: err.issues };
      }
      if (result.ok) {
        console.log(`${file}: ok (${result.graph.nodes.size} nodes)`);
        return;
      }
      for (const issue of result.issues) console.error(`${file}: ${formatIssue(issue)}`);
      process.exitCode = 1;
    });
}
