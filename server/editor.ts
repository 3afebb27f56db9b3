import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';

const NOT_BUILT =
  'The picflow editor has not been built yet. Run `npm run build:editor` (or start with `npm start`), then reload.\n' +
  'The API is served meanwhile: try /api/health and /api/nodes.\n';

/**
 * The editor's static files, with single-page-app fallback to index.html. Whether it is built is
 * checked per request, so building it while the server runs needs no restart.
 */
export function editorRoutes(dir: string): Router {
  const router = Router();
  router.use(
    express.static(dir, {
      index: 'index.html',
      // Vite puts content hashes in asset names: they can be cached for good.
      setHeaders: (res, path) => {
        if (path.includes(`${join(dir, 'assets')}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      },
    }),
  );
  router.get('/{*path}', (req, res, next) => {
    if (/^\/(api|hooks)(\/|$)/.test(req.path)) return next();
    const index = join(dir, 'index.html');
    if (existsSync(index)) res.sendFile(index);
    else res.status(404).type('text/plain').send(NOT_BUILT);
  });
  return router;
}
