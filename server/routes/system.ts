// `/api/health`, `/api/nodes`, `/api/models` and `/api/templates`: what the server is and offers.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Router } from 'express';
import { describeCatalog } from '../../engine/node';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';

/** Example workflows from the templates folder; a file that does not parse is left out. */
async function readTemplates(dir: string) {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
  const templates = await Promise.all(
    files.map(async (file) => {
      try {
        const workflow = JSON.parse(await readFile(join(dir, file), 'utf8'));
        return { id: file.slice(0, -'.json'.length), name: workflow.name ?? file, description: workflow.description ?? '', workflow };
      } catch {
        return undefined;
      }
    }),
  );
  return templates.filter((t) => t !== undefined);
}

/** What the server is and offers: health, the node catalog, models, example workflows. */
export function systemRoutes(ctx: AppContext): Router {
  const router = Router();
  const catalog = describeCatalog(ctx.engine.catalog);
  const { models } = ctx.engine.services;

  router.get('/api/health', async (_req, res) => {
    const queue = await ctx.manager.queue.stats();
    res.json({
      name: 'picflow',
      version: ctx.version,
      uptime: (Date.now() - ctx.startedAt) / 1000,
      device: models?.device ?? 'cpu',
      queue,
      // Scale-out: whether the Redis that runs wait in answers (runs are refused while it does not).
      ...(queue.mode === 'bullmq' && { redis: queue.workers === null ? 'down' : 'up' }),
    });
  });

  router.get('/api/nodes', (_req, res) => {
    res.json(catalog);
  });

  router.get('/api/models', async (_req, res) => {
    if (!models) throw new HttpError(503, 'this server runs without a model runtime');
    res.json(await models.describe());
  });

  router.get('/api/templates', async (_req, res) => {
    res.json({ templates: await readTemplates(ctx.templatesDir) });
  });

  return router;
}
