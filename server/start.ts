// Starting and stopping a server: data-dir lock, database, run service and queue, express app and socket.io on one port.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { Engine, type EngineOptions } from '../engine/engine';
import type { Catalog } from '../engine/node';
import { ModelRuntime, type DeviceRequest } from '../engine/runtime';
import { createServices } from '../engine/services';
import { PICFLOW_VERSION } from '../engine/version';
import { catalog as shippedCatalog } from '../nodes';
import { admitAtTheDoor } from './admission';
import { createApp, firstSteps } from './app';
import { ArtifactStore } from './artifacts';
import { Access } from './auth/access';
import { HostAllowList, isLoopbackBind } from './auth/hosts';
import { TokenStore } from './auth/token-store';
import { ComfyApi } from './comfy';
import type { AppContext, Limits } from './context';
import { lockDataDir } from './data-dir-lock';
import { Database } from './db';
import { CallbackDispatcher, DEFAULT_CALLBACK_OPTIONS, type CallbackOptions } from './hooks/callbacks';
import { hookDoor } from './hooks/door';
import { HookLookup } from './hooks/lookup';
import { createLogger } from './logger';
import { migrate } from './migrations';
import { explainDataDirError, explainListenError } from './start-errors';
import { RunManager } from './run-manager';
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_QUEUE, InProcessRunQueue, type RunHost, type RunQueue } from './run-queue';
import { BullmqRunQueue } from './scale-out/bullmq-queue';
import { attachSocket } from './socket';
import { RunStore } from './store/runs';
import { TriggerStore } from './store/triggers';
import { WorkflowStore } from './store/workflows';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Connections waiting to be accepted. */
const LISTEN_BACKLOG = 4096;

export interface ServerOptions {
  /** Folder of the sqlite database and the artifacts; created when missing. */
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** The interface to bind; anything but loopback requires API tokens (and refuses to start without one). */
  host?: string;
  /** Require API tokens on loopback too (`--auth`). */
  auth?: boolean;
  /** Host names the server answers to besides loopback names and IP addresses (`--allowed-host`). */
  allowedHosts?: string[];
  /** Runs executed at once (in-process). */
  concurrency?: number;
  /** Scale-out: runs wait in a BullMQ queue on this Redis and execute on `picflow worker` processes. */
  redisUrl?: string;
  /** Runs that may wait for a worker; beyond it new runs get 503. */
  maxQueue?: number;
  /** At start-up, queue again the runs the previous process was running when it stopped (their finished nodes are reused). */
  resume?: boolean;
  /** How long a graceful shutdown lets running runs finish before cancelling them. */
  shutdownTimeoutMs?: number;
  /** The node types runs may use; the shipped catalog unless a test brings its own. */
  catalog?: Catalog;
  logger?: Logger;
  limits?: Partial<Limits>;
  /** Workflow limits, image budgets, stop grace and the run time budget the engine enforces (its defaults otherwise). */
  engine?: Pick<EngineOptions, 'limits' | 'pixels' | 'stopGraceMs'> & { runBudgetMs?: number };
  editorDir?: string;
  templatesDir?: string;
  /** Retries of hook callbacks (attempts, backoff) and whether they may reach internal addresses (`allowPrivate`). */
  callbacks?: Partial<Omit<CallbackOptions, 'apiRequiresTokens'>>;
  /** The model runtime runs share; built from `modelsDir` and `device` unless the host brings one. */
  models?: ModelRuntime;
  /** Folder of models, one sub-folder each (default: `models/` in the data folder). */
  modelsDir?: string;
  device?: DeviceRequest;
}

export interface PicflowServer {
  url: string;
  port: number;
  logger: Logger;
  /** Graceful shutdown: no new runs, running ones finish or are cancelled, sockets and the database close. */
  close(): Promise<void>;
}

/** The sqlite database of a data dir (the CLI's token commands open it too). */
export const databasePath = (dataDir: string): string => join(resolve(dataDir), 'picflow.db');

export async function startServer(options: ServerOptions): Promise<PicflowServer> {
  const logger = options.logger ?? createLogger();
  const dataDir = resolve(options.dataDir);
  const explained = (err: unknown) => explainDataDirError(err, dataDir, databasePath(dataDir));
  // Before the database is touched: a second server on this data dir stops here.
  const lock = await mkdir(dataDir, { recursive: true })
    .then(() => lockDataDir(dataDir))
    .catch((err) => {
      throw explained(err);
    });
  const started = await openServer(options, logger, dataDir).catch(async (err) => {
    await lock.release();
    throw explained(err);
  });
  return {
    ...started,
    close: async () => {
      await started.close();
      await lock.release();
    },
  };
}

async function openServer(options: ServerOptions, logger: Logger, dataDir: string): Promise<PicflowServer> {
  const db = await Database.open(databasePath(dataDir));
  const schema = await migrate(db).catch(async (err) => {
    await db.close();
    throw err;
  });
  const host = options.host ?? '127.0.0.1';
  let access: Access;
  try {
    access = await openAccess(db, host, options);
  } catch (err) {
    await db.close();
    throw err;
  }
  const runs = new RunStore(db);
  const artifacts = await ArtifactStore.open(db, join(dataDir, 'artifacts'));

  const { runBudgetMs, ...engineLimits } = options.engine ?? {};
  const models = options.models ?? new ModelRuntime({ device: options.device, modelDirs: [options.modelsDir ?? join(dataDir, 'models')] });
  const engine = new Engine({
    catalog: options.catalog ?? shippedCatalog,
    services: createServices({ allowFilePaths: false, artifacts, models }),
    ...engineLimits,
    // Runs over their time budget show up in the server log, with the nodes still running.
    watchdog: { ...(runBudgetMs !== undefined && { runBudgetMs }), onOverdue: (run) => logger.warn(run, 'run over its time budget') },
  });
  const manager = new RunManager({
    engine,
    runs,
    artifacts,
    logger,
    queue: (host: RunHost): RunQueue => {
      const maxLength = options.maxQueue ?? DEFAULT_MAX_QUEUE;
      if (options.redisUrl) return new BullmqRunQueue(host, { redisUrl: options.redisUrl, maxLength, artifacts, logger });
      return new InProcessRunQueue(host.process, { concurrency: options.concurrency ?? DEFAULT_CONCURRENCY, maxLength });
    },
  });
  try {
    await manager.open();
    // Before the port opens, so that they keep their places ahead of new runs.
    const restored = await manager.restore(options.resume ?? false);
    if (restored.queued > 0) logger.info({ queued: restored.queued }, 'runs left queued by the previous process are queued again');
    if (restored.interrupted > 0) {
      logger.warn({ interrupted: restored.interrupted }, 'runs the previous process was running are interrupted (POST /api/runs/:id/resume, or serve --resume)');
    }
  } catch (err) {
    await manager.close(0);
    await db.close();
    throw err;
  }
  const callbacks = new CallbackDispatcher(db, logger, (runId) => manager.result(runId), { ...DEFAULT_CALLBACK_OPTIONS, ...options.callbacks, apiRequiresTokens: access.enabled });
  const ctx: AppContext = {
    callbacks,
    engine,
    manager,
    runs,
    artifacts,
    workflows: new WorkflowStore(db),
    triggers: new TriggerStore(db),
    logger,
    access,
    limits: { jsonBytes: 2 * 1024 * 1024, uploadBytes: 20 * 1024 * 1024, uploadPixels: 4096 * 4096, jsonDepth: 64, ...options.limits },
    editorDir: options.editorDir ?? join(ROOT, 'dist', 'editor'),
    templatesDir: options.templatesDir ?? join(ROOT, 'workflows'),
    version: PICFLOW_VERSION,
    startedAt: Date.now(),
  };
  const comfy = new ComfyApi(ctx);
  const first = firstSteps(ctx);
  const hookLookup = new HookLookup(ctx);
  const app = createApp(ctx, comfy, first, hookLookup);

  const http = createServer(admitAtTheDoor(manager, logger, app, hookDoor(ctx, hookLookup, first)));
  access.guardUpgrades(http);
  const io = attachSocket(http, manager, access);
  comfy.attach(http);
  const port = options.port ?? 8188;
  try {
    await new Promise<void>((resolveListen, reject) => {
      const refused = (err: Error) => reject(explainListenError(err, host, port));
      http.once('error', refused);
      // A backlog for a burst of a thousand clients connecting at once: past Node's 511 the kernel drops their
      // handshakes, which then wait for retransmits (1 s, 3 s, ...) or are reset (the kernel caps it at somaxconn).
      http.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        http.off('error', refused);
        resolveListen();
      });
    });
  } catch (err) {
    await manager.close(0);
    await db.close();
    throw err;
  }
  // Once the server is up (a failed start leaves them stored for the next one).
  const resumedCallbacks = await callbacks.resume();
  if (resumedCallbacks > 0) logger.info({ callbacks: resumedCallbacks }, 'callback deliveries left by the previous process go on');
  const address = http.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  logger.info(
    { url, dataDir, schema: schema.to, queue: options.redisUrl ? 'bullmq' : 'in-process', auth: access.enabled ? 'tokens' : 'off' },
    'picflow listening',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down');
      await manager.close(options.shutdownTimeoutMs ?? 10_000);
      const closed = new Promise<void>((done) => http.once('close', done));
      comfy.close();
      // io.close() disconnects the sockets and closes the HTTP server; idle keep-alive connections go with it.
      void io.close();
      http.closeAllConnections();
      await closed;
      await callbacks.close();
      await db.close();
      await models.close();
      logger.info('stopped');
    })());
  return { url, port: address.port, logger, close };
}

/**
 * Who may talk to the server. Off the loopback anyone who can reach the port could read and run
 * everything, so tokens are required there, and a server with none refuses to start.
 */
async function openAccess(db: Database, host: string, options: ServerOptions): Promise<Access> {
  const tokens = new TokenStore(db);
  const enabled = options.auth === true || !isLoopbackBind(host);
  if (enabled && (await tokens.count()) === 0) {
    const create = `create one with \`picflow token create --data ${options.dataDir}\``;
    throw new Error(
      isLoopbackBind(host)
        ? `--auth is on but there is no API token yet: ${create}`
        : `refusing to serve on ${host} without an API token (anyone who can reach it could read and run everything): ${create}, or bind 127.0.0.1`,
    );
  }
  return new Access({ hosts: new HostAllowList(options.allowedHosts), tokens, enabled });
}
