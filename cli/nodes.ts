import type { Command } from 'commander';
import type { CatalogEntry } from '../engine';
import { loadCatalog } from './lazy';

function ports(list: CatalogEntry['inputs']): string {
  return list.map((p) => `${p.name}:${p.type}${p.optional ? '?' : ''}`).join(', ') || '-';
}

export function registerNodes(program: Command): void {
  program
    .command('nodes')
    .description('list the node types')
    .option('--json', 'print the catalog as JSON (the same as GET /api/nodes)')
    .action(async (options: { json?: boolean }) => {
      const [{ describeCatalog }, catalog] = await Promise.all([import('../engine'), loadCatalog()]);
      const entries = describeCatalog(catalog);
      if (options.json) {
        console.log(JSON.stringify(entries, null, 2));
        return;
      }
      console.table(
        entries.map((e) => ({
          type: e.type,
          category: e.category,
          inputs: ports(e.inputs),
          outputs: ports(e.outputs),
          params: Object.keys((e.params as { properties?: object }).properties ?? {}).join(', ') || '-',
        })),
      );
    });
}
