// Serves `/apps/:slug`: a form page per trigger, for people rather than programs.
import { join } from 'node:path';
import express, { Router } from 'express';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';

const PAGE = join(import.meta.dirname, 'page');

/**
 * `/apps/:slug`: a page per trigger for people rather than programs. One static page for all; it
 * reads the trigger's OpenAPI document to build its form and calls the hook like any other client.
 */
export function appRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use('/apps/assets', express.static(PAGE, { index: false, maxAge: '1h' }));
  router.get('/apps/:slug', async (req, res) => {
    if (!(await ctx.triggers.bySlug(req.params.slug))) throw new HttpError(404, `no trigger '${req.params.slug}'`);
    res.sendFile(join(PAGE, 'app.html'));
  });
  return router;
}
