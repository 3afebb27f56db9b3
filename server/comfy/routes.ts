// ComfyUI's HTTP API, each route also under `/api` as ComfyUI serves it.
import { freemem, totalmem } from 'node:os';
import { posix } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import { HttpError, parseRequest } from '../http-error';
import { shallowJson } from '../json-depth';
import { imageUpload, sendArtifact, storeUploadedImage } from '../routes/artifacts';
import type { RunRecord, RunState } from '../store/runs';
import { ClearedHistory } from './cleared';
import { artifactOfFileName, type ComfyHistory, type HistoryEntry, type QueueItem } from './history';
import { objectInfo } from './object-info';
import type { PromptBook } from './prompts';
import type { PromptQueue } from './queue-prompt';

/** Runs `/history` looks through: the newest ones (ComfyUI keeps its history in memory, picflow in sqlite). */
const HISTORY_WINDOW = 200;

/** POST routes whose body is JSON whatever its content type says (Python's urllib sends form-urlencoded). */
const JSON_ANY_TYPE = ['/prompt', '/queue', '/interrupt', '/history', '/free'];
const UPLOAD = '/upload/image';

/** The bare paths of ComfyUI's routes (and what lies under them). */
const COMFY_PATHS = ['/prompt', '/history', '/view', '/upload', '/queue', '/interrupt', '/free', '/object_info', '/system_stats', '/features', '/embeddings', '/extensions'];

/** Both `/path` and `/api/path`. */
const both = (path: string) => [path, `/api${path}`];

/**
 * The body type a ComfyUI route takes, for the app's request guard: `any` (JSON whatever the header
 * says), multipart for uploads, undefined for a path that is not ComfyUI's.
 */
export function comfyBodyType(path: string): 'any' | 'multipart/form-data' | undefined {
  const bare = path.startsWith('/api/') ? path.slice('/api'.length) : path;
  if (bare === UPLOAD) return 'multipart/form-data';
  return JSON_ANY_TYPE.includes(bare) ? 'any' : undefined;
}

const historyQuery = z.object({
  max_items: z.coerce.number().int().min(0).optional(),
  offset: z.coerce.number().int().optional(),
});
const viewQuery = z.looseObject({ filename: z.string().min(1).max(256) });
/** What `POST /queue` and `POST /history` take: clear all, or delete these prompt ids. */
const clearOrDelete = z.looseObject({ clear: z.boolean().optional(), delete: z.array(z.string()).optional() });
const interruptBody = z.looseObject({ prompt_id: z.string().optional() });

/** Whether a subfolder stays inside its folder: ComfyUI refuses (400) an upload whose subfolder leaves it. */
function staysInside(subfolder: string): boolean {
  const normal = posix.normalize(subfolder.replaceAll('\\', '/'));
  return !posix.isAbsolute(normal) && normal !== '..' && !normal.startsWith('../');
}

const uploadFields = z.looseObject({
  type: z.enum(['input', 'temp', 'output']).default('input'),
  subfolder: z.string().max(256).refine(staysInside, 'must stay inside the upload folder (no leading / and no .. above it)').default(''),
});

export interface ComfyRouteDeps {
  ctx: AppContext;
  book: PromptBook;
  history: ComfyHistory;
  prompts: PromptQueue;
  /** The queue's status, as `/ws` sends it. */
  queueRemaining(): Promise<number>;
}

export function comfyRoutes({ ctx, book, history, prompts, queueRemaining }: ComfyRouteDeps): Router {
  const router = Router();
  const parseAnyJson = express.json({ type: () => true, limit: ctx.limits.jsonBytes });
  const depthLimit = shallowJson(ctx.limits.jsonDepth);
  const anyJson: RequestHandler = (req, res, next) =>
    parseAnyJson(req, res, (err?: unknown) => {
      if (err) return next(err);
      try {
        depthLimit(req, res, next);
      } catch (refused) {
        next(refused);
      }
    });
  const info = objectInfo(ctx.engine.catalog);
  // `/api/…` is already behind the API's token check; the bare paths get the same one.
  router.use(COMFY_PATHS, ctx.access.require());

  /** Queued or running runs, oldest first, as queue items. */
  const queueItems = async (status: RunState): Promise<QueueItem[]> => {
    const { runs } = await ctx.runs.list({ status, limit: HISTORY_WINDOW });
    const records = await Promise.all(runs.reverse().map((run) => ctx.manager.get(run.id)));
    return records.filter((r): r is RunRecord => r !== undefined && r.status === status).map((r) => history.queueItem(r, book.ofRun(r.id)));
  };

  const cleared = new ClearedHistory();

  /** The runs `/history` lists, oldest first as ComfyUI lists them: the newest runs that ran, with their entries (cleared ones too). */
  const historyRuns = async (): Promise<{ runId: string; promptId: string; entry: HistoryEntry }[]> => {
    const { runs } = await ctx.runs.list({ limit: HISTORY_WINDOW });
    const listed = [];
    for (const summary of runs.reverse()) {
      const run = await ctx.manager.get(summary.id);
      const queued = book.ofRun(summary.id);
      const entry = run && history.entry(run, queued);
      if (entry) listed.push({ runId: summary.id, promptId: queued?.promptId ?? summary.id, entry });
    }
    return listed;
  };

  /** Cancels the runs of these prompt ids that are still waiting (running ones are left alone). */
  const cancelWaiting = async (promptIds: string[]) => {
    for (const promptId of promptIds) {
      const runId = book.runIdOf(promptId);
      if ((await ctx.manager.get(runId))?.status === 'queued') await ctx.manager.cancel(runId);
    }
  };

  router.post(both('/prompt'), anyJson, async (req, res) => {
    const answer = await prompts.queue(req.body ?? {});
    res.status(answer.ok ? 200 : 400).json(answer.body);
  });

  router.get(both('/prompt'), async (_req, res) => {
    res.json({ exec_info: { queue_remaining: await queueRemaining() } });
  });

  router.get(both('/history'), async (req, res) => {
    const query = parseRequest(historyQuery, req.query, 'query');
    const entries = (await historyRuns()).filter(({ runId }) => !cleared.hides(runId)).map(({ promptId, entry }) => [promptId, entry] as const);
    // ComfyUI: without an offset, `max_items` takes the newest; with one, that many from the oldest on.
    const start = query.offset !== undefined && query.offset >= 0 ? query.offset : Math.max(0, entries.length - (query.max_items ?? entries.length));
    const picked = entries.slice(start, query.max_items === undefined ? undefined : start + query.max_items);
    res.json(Object.fromEntries(picked));
  });

  router.get(both('/history/:prompt_id'), async (req, res) => {
    const promptId = String(req.params.prompt_id);
    const runId = book.runIdOf(promptId);
    const run = cleared.hides(runId) ? undefined : await ctx.manager.get(runId);
    const entry = run && history.entry(run, book.ofRun(run.id));
    // An unknown or unfinished prompt is `{}`, as ComfyUI answers it.
    res.json(entry ? { [promptId]: entry } : {});
  });

  router.post(both('/history'), anyJson, async (req, res) => {
    const body = parseRequest(clearOrDelete, req.body ?? {}, 'history request');
    const listed = await historyRuns();
    const runIds = listed.map(({ runId }) => runId);
    const chosen = [...(body.clear ? runIds : []), ...(body.delete ?? []).map((promptId) => book.runIdOf(promptId))];
    cleared.hide(chosen, new Set(runIds));
    res.status(200).end();
  });

  router.get(both('/view'), async (req, res) => {
    const { filename } = parseRequest(viewQuery, req.query, 'query');
    const id = artifactOfFileName(filename);
    if (!id) throw new HttpError(404, `no file '${filename}'`);
    // The name passed artifactOfFileName: hex digits and an extension, safe in a header.
    res.set('Content-Disposition', `filename="${filename}"`);
    await sendArtifact(ctx, id, req, res);
  });

  router.post(both(UPLOAD), imageUpload(ctx), async (req, res) => {
    const fields = parseRequest(uploadFields, req.body ?? {}, 'upload fields');
    // ComfyUI reads the image from the field `image` only, and answers 400 without it.
    const info = await storeUploadedImage(ctx, req, 'image', 'this-field');
    // The name is the artifact id: a load-image node takes it as its `artifact`.
    res.json({ name: info.id, subfolder: fields.subfolder, type: fields.type });
  });

  router.get(both('/queue'), async (_req, res) => {
    res.json({ queue_running: await queueItems('running'), queue_pending: await queueItems('queued') });
  });

  router.post(both('/queue'), anyJson, async (req, res) => {
    const body = parseRequest(clearOrDelete, req.body ?? {}, 'queue request');
    if (body.clear) await cancelWaiting((await queueItems('queued')).map((item) => item[1]));
    if (body.delete) await cancelWaiting(body.delete);
    res.status(200).end();
  });

  router.post(both('/interrupt'), anyJson, async (req, res) => {
    const body = parseRequest(interruptBody, req.body ?? {}, 'interrupt request');
    // A prompt id interrupts that prompt only when it is running; none interrupts whatever runs now.
    const running = (await queueItems('running')).map((item) => book.runIdOf(item[1]));
    const target = body.prompt_id === undefined ? running : running.filter((runId) => runId === book.runIdOf(body.prompt_id!));
    await Promise.all(target.map((runId) => ctx.manager.cancel(runId)));
    res.status(200).end();
  });

  router.post(both('/free'), anyJson, (_req, res) => {
    // Models are unloaded by the runtime's memory budget; nothing to do on request.
    res.status(200).end();
  });

  router.get(both('/object_info'), (_req, res) => {
    res.json(info);
  });

  router.get(both('/object_info/:node_class'), (req, res) => {
    const type = String(req.params.node_class);
    res.json(Object.hasOwn(info, type) ? { [type]: info[type] } : {});
  });

  router.get(both('/system_stats'), (_req, res) => {
    const provider = ctx.engine.services.models?.sessions.provider.provider ?? 'cpu';
    res.json({
      system: {
        os: process.platform,
        ram_total: totalmem(),
        ram_free: freemem(),
        comfyui_version: ctx.version,
        picflow_version: ctx.version,
        python_version: `node ${process.version}`,
        pytorch_version: 'onnxruntime',
        embedded_python: false,
        argv: [],
      },
      devices: [{ name: provider, type: provider, index: 0, vram_total: 0, vram_free: 0, torch_vram_total: 0, torch_vram_free: 0 }],
    });
  });

  router.get(both('/features'), (_req, res) => {
    res.json({ supports_preview_metadata: false, max_upload_size: ctx.limits.uploadBytes });
  });

  router.get([...both('/embeddings'), ...both('/extensions')], (_req, res) => {
    res.json([]);
  });

  return router;
}
