import type { Catalog } from '../engine';

/**
 * The shipped node catalog, imported when a command needs it: `picflow --help` and the server's commands
 * never load the nodes (and what they import) at all.
 */
export async function loadCatalog(): Promise<Catalog> {
  return (await import('../nodes')).catalog;
}
