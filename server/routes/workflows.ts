// `/api/workflows`: save, list, read, version and delete workflows; validate one.
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import { HttpError, parseRequest, queryWholeNumber, runInputsField } from '../http-error';
import { exposureIssues } from '../hooks/contract';
import { validateForSave } from '../validation';

/**
 * A workflow in a request body: the workflow JSON itself, or wrapped as `{ workflow, ... }`.
 * Returns the workflow and the wrapper's `inputs`, if any.
 */
function workflowOf(body: unknown): { workflow: unknown; inputs?: Record<string, unknown> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'expected a JSON object: a workflow, or { workflow, inputs? } (Content-Type: application/json)');
  }
  if ('workflow' in body && !('nodes' in body)) {
    const { workflow, inputs } = parseRequest(
      z.object({ workflow: z.unknown(), inputs: runInputsField.optional() }),
      body,
      'request body',
    );
    return { workflow, inputs };
  }
  return { workflow: body };
}

function checkSavable(ctx: AppContext, workflow: unknown): void {
  const errors = validateForSave(ctx.engine, workflow);
  if (errors.length > 0) throw new HttpError(400, `the workflow is invalid (${errors.length} problem${errors.length === 1 ? '' : 's'})`, errors);
}

async function found<T>(value: Promise<T | undefined>, id: string): Promise<T> {
  const result = await value;
  if (result === undefined) throw new HttpError(404, `no workflow '${id}'`);
  return result;
}

export const versionQuery = z.object({ version: queryWholeNumber(1).optional().describe('a saved version (1 is the first); the newest when left out') });

/** Saved workflows: CRUD with version history, and validation. */
export function workflowRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/api/workflows', async (_req, res) => {
    res.json({ workflows: await ctx.workflows.list() });
  });

  router.post('/api/workflows', async (req, res) => {
    const { workflow } = workflowOf(req.body);
    checkSavable(ctx, workflow);
    res.status(201).json(await ctx.workflows.create(workflow));
  });

  // With run inputs, checks the run they describe; without, checks the workflow as it would be saved.
  router.post('/api/workflows/validate', (req, res) => {
    const { workflow, inputs } = workflowOf(req.body);
    const errors = inputs ? ctx.engine.validate(workflow, inputs).errors : validateForSave(ctx.engine, workflow);
    res.json({ ok: errors.length === 0, errors });
  });

  router.get('/api/workflows/:id', async (req, res) => {
    const { version } = parseRequest(versionQuery, req.query, 'query');
    res.json(await found(ctx.workflows.get(req.params.id, version), req.params.id));
  });

  router.get('/api/workflows/:id/versions', async (req, res) => {
    const versions = await ctx.workflows.versions(req.params.id);
    if (versions.length === 0) throw new HttpError(404, `no workflow '${req.params.id}'`);
    res.json({ versions });
  });

  // Saved even when it breaks what its trigger exposes (an editor's save must not be refused for it): the answer's
  // `triggerIssues` names each broken exposure, as the trigger's GET does, until the trigger is updated.
  router.put('/api/workflows/:id', async (req, res) => {
    const { workflow } = workflowOf(req.body);
    checkSavable(ctx, workflow);
    const saved = await found(ctx.workflows.update(req.params.id, workflow), req.params.id);
    const trigger = await ctx.triggers.byWorkflow(saved.id);
    const triggerIssues = trigger ? exposureIssues(ctx.engine, saved.workflow, trigger.inputs).map((issue) => ({ ...issue, field: `trigger.${issue.field}` })) : [];
    res.json({ ...saved, triggerIssues });
  });

  router.delete('/api/workflows/:id', async (req, res) => {
    if (!(await ctx.workflows.delete(req.params.id))) throw new HttpError(404, `no workflow '${req.params.id}'`);
    res.status(204).end();
  });

  return router;
}
