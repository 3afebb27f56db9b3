// A hook's runs as its callers see them: the source they are recorded under, their status and image URLs,
// and their run documents (the sync answer, the status URL's, callbacks').
import { HttpError } from '../http-error';
import { isImageRef } from '../json-values';
import { toRunDocument, type RunDocument } from '../run-document';
import type { RunRecord, RunSummary } from '../store/runs';
import type { Trigger } from '../store/triggers';
import { hookUrl } from '../store/workflows';

const HOOK_SOURCE = 'hook:';

/** The `source` a trigger's runs are recorded with. */
export function hookSource(slug: string): string {
  return HOOK_SOURCE + slug;
}

/**
 * A run of this trigger, read through `get` (the run manager's), or a 404: its slug and its workflow must both
 * match, since a slug given up by one workflow's trigger may be taken by another's, whose credentials must not
 * open the runs (outputs, images) made under the slug before.
 */
export async function runOfTrigger(trigger: Trigger, runId: string, get: (runId: string) => Promise<RunRecord | undefined>): Promise<RunRecord> {
  const run = await get(runId);
  if (!run || run.source !== hookSource(trigger.slug) || run.workflowId !== trigger.workflowId) {
    throw new HttpError(404, `no run '${runId}' of trigger '${trigger.slug}'`);
  }
  return run;
}

/** Where a hook's run is followed (with the call's credentials). */
export function hookStatusUrl(slug: string, runId: string): string {
  return `${hookUrl(slug)}/runs/${runId}`;
}

/** Where an image of a hook's run is served under the trigger's credentials (hooks/app-assets.ts). */
export function hookArtifactUrl(slug: string, runId: string, artifact: string): string {
  return `${hookStatusUrl(slug, runId)}/artifacts/${artifact}`;
}

/**
 * A hook run's document as its caller gets it (the answer, the status URL, callbacks). On a server whose API
 * requires tokens, each image's `url` is the hook's own route for the run's images, which the trigger's token
 * or signature opens: `/api/artifacts/…` answers the caller 401 there. Elsewhere, and for a run that did not
 * come from a hook, the document is the plain one, its URLs needing no credentials.
 */
export function hookRunDocument(run: RunSummary, apiRequiresTokens: boolean): RunDocument {
  const document = toRunDocument(run);
  if (!apiRequiresTokens || !run.source.startsWith(HOOK_SOURCE)) return document;
  const slug = run.source.slice(HOOK_SOURCE.length);
  const relink = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(relink);
    return isImageRef(value) ? { ...value, url: hookArtifactUrl(slug, run.id, value.artifact) } : value;
  };
  // Output names come from outside: fromEntries defines own keys (a `__proto__` output stays an output).
  const outputs = Object.fromEntries(Object.entries(document.outputs).map(([name, output]) => [name, { ...output, value: relink(output.value) }]));
  return { ...document, outputs };
}
