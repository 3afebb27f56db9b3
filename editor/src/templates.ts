// The example workflows offered as templates: from the server's `GET /api/templates` when it has
// one, else the copies of `workflows/*.json` bundled at build time (each its own small chunk).

import { api } from './api';
import type { Workflow } from './types';

export interface TemplateEntry {
  id: string;
  name: string;
  description?: string;
  load(): Promise<Workflow>;
}

const bundled = import.meta.glob<Workflow>('../../workflows/*.json', { import: 'default' });

/** Bundled templates' names and descriptions are read when the list is first opened. */
async function bundledTemplates(): Promise<TemplateEntry[]> {
  const entries = await Promise.all(
    Object.entries(bundled).map(async ([path, load]) => {
      const workflow = await load();
      const id = path.split('/').pop()!.replace(/\.json$/, '');
      return { id, name: workflow.name ?? id, description: workflow.description, load: async () => structuredClone(workflow) };
    }),
  );
  return entries.sort((a, b) => a.id.localeCompare(b.id));
}

export async function loadTemplates(): Promise<TemplateEntry[]> {
  try {
    const list = await api.templates();
    if (list.length > 0) {
      return list.map((t) => ({ id: t.id, name: t.name, description: t.description, load: async () => structuredClone(t.workflow) }));
    }
  } catch {
    /* no templates route on this server */
  }
  return bundledTemplates();
}
