// Serves the built editor: its static files and its page at `/`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';

const NOT_BUILT =
  'The picflow editor has not been built yet. Run `npm run build:editor` (or start with `npm start`), then reload.\n' +
  'The API is served meanwhile: try /api/health and /api/nodes.\n';

/**
 * The editor's static files, its page at `/` (it keeps its state in the query string, so no other path
 * is the editor's: those get the app's JSON 404). Whether it is built is checked per request, so
 * building it while the server runs needs no restart.
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
  router.get('/', (_req, res) => {
    const index = join(dir, 'index.html');
    if (existsSync(index)) res.sendFile(index);
    else res.status(404).type('text/plain').send(NOT_BUILT);
  });
  return router;
}
