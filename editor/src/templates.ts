// The example workflows offered as templates: from the server's `GET /api/templates` when it has
// one, else the copies of `workflows/*.json` bundled at build time (each its own small chunk). The
// images the templates load (`workflows/assets/`) ship with the editor: opening a template uploads
// them and points its nodes at the artifacts, so a template runs on a server that takes no paths.

import { api } from './api';
import type { Workflow } from '../../engine/contract';

export interface TemplateEntry {
  id: string;
  name: string;
  description?: string;
  load(): Promise<Workflow>;
}

const bundled = import.meta.glob<Workflow>('../../workflows/*.json', { import: 'default' });
/** Shipped images by their path relative to the templates folder (`assets/red-circle.png`). */
const assets = new Map(
  Object.entries(import.meta.glob<string>('../../workflows/assets/*.png', { query: '?no-inline', import: 'default', eager: true })).map(([path, url]) => [
    path.replace('../../workflows/', ''),
    url,
  ]),
);

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

/**
 * Replaces each `path` param that names an image shipped with the templates by an `artifact` param
 * (the image uploaded). Paths that name no shipped image are left for the server to report.
 * Returns the paths that could not be uploaded, each with the reason.
 */
export async function attachTemplateImages(workflow: Workflow, upload: (file: File) => Promise<{ artifact: string }>): Promise<string[]> {
  const failed: string[] = [];
  const uploads = new Map<string, Promise<string>>();
  for (const node of Object.values(workflow.nodes)) {
    const path = node.params?.path;
    if (typeof path !== 'string') continue;
    const key = path.replace(/^\.\//, '');
    const url = assets.get(key);
    if (!url) continue;
    let artifact = uploads.get(key);
    if (!artifact) {
      artifact = fetch(url)
        .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`${r.status}`))))
        .then((blob) => upload(new File([blob], key.split('/').pop()!, { type: 'image/png' })))
        .then((r) => r.artifact);
      uploads.set(key, artifact);
    }
    try {
      const params: Record<string, unknown> = { ...node.params, artifact: await artifact };
      delete params.path;
      node.params = params;
    } catch (err) {
      failed.push(`${path} (${(err as Error).message})`);
    }
  }
  return failed;
}
