// Serves the API's OpenAPI document and its swagger-ui reference page.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router } from 'express';
import type { AppContext } from '../context';
import { apiDocument } from './api-document';

const DOCS_PAGE = join(import.meta.dirname, 'docs');
const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** `GET /api/openapi.json` (the whole API) and its reference page at `/api/docs`, rendered by swagger-ui, served from here. */
export function openapiRoutes(ctx: AppContext): Router {
  const router = Router();
  const document = apiDocument(ctx.version);

  router.get('/api/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/api/docs', (_req, res) => res.sendFile(join(DOCS_PAGE, 'index.html')));
  router.get('/api/docs/init.js', (_req, res) => res.sendFile(join(DOCS_PAGE, 'init.js')));
  router.use('/api/docs/assets', express.static(SWAGGER_UI, { index: false, maxAge: '1h' }));
  return router;
}
