import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import { defineNode, makeCatalog, type AnyNodeDefinition } from '../engine/node';
import { nodeDefinitions } from '../nodes';
import { createLogger } from '../server/logger';
import type { Scope } from '../server/auth/scopes';
import { TokenStore } from '../server/auth/token-store';
import { Database } from '../server/db';
import { migrate } from '../server/migrations';
import { databasePath, startServer, type PicflowServer, type ServerOptions } from '../server/start';

/** Gates that `hold` nodes wait on; a test opens one to let its runs go on. */
const gates = new Map<string, { opened: Promise<void>; open(): void }>();
function gate(name: string) {
  let entry = gates.get(name);
  if (!entry) {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    gates.set(name, (entry = { opened, open }));
  }
  return entry;
}
export const openGate = (name: string) => gate(name).open();

/**
 * Test-only node types, added to the shipped ones in the tests' own catalog: `hold` keeps its run
 * mid-flight until its gate opens (or the run is cancelled); `steps` reports progress.
 */
const hold = defineNode({
  type: 'hold',
  category: 'test',
  description: 'waits for its gate to open, or for cancellation',
  inputs: { a: { type: 'number', optional: true } },
  outputs: { value: { type: 'number' } },
  params: z.object({ gate: z.string().default('default') }),
  run: async (inputs, params, ctx) => {
    await new Promise<void>((resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      void gate(params.gate).opened.then(resolve);
    });
    return { value: (inputs.a as number | undefined) ?? 1 };
  },
});
const steps = defineNode({
  type: 'steps',
  category: 'test',
  description: 'reports `total` progress steps',
  inputs: {},
  outputs: { value: { type: 'number' } },
  params: z.object({ total: z.int().min(1).default(3) }),
  run: async (_inputs, params, ctx) => {
    for (let step = 1; step <= params.total; step++) {
      await new Promise((resolve) => setImmediate(resolve));
      ctx.progress(step, params.total);
    }
    return { value: params.total };
  },
});
/**
 * `checkpoint` adds `value` to its input; it waits until the file `waitFor` exists (a gate that works
 * across processes) and appends `<runId> <nodeId>` to the file PICFLOW_CALLS_FILE names, so a test
 * can count its calls in a server process it kills and starts again.
 */
const checkpoint = defineNode({
  type: 'checkpoint',
  category: 'test',
  description: 'a + value, once the file `waitFor` exists; each call is counted in $PICFLOW_CALLS_FILE',
  inputs: { a: { type: 'number', optional: true } },
  outputs: { value: { type: 'number' } },
  params: z.object({ value: z.number().default(0), waitFor: z.string().default('') }),
  run: async (inputs, params, ctx) => {
    const calls = process.env.PICFLOW_CALLS_FILE;
    if (calls) appendFileSync(calls, `${ctx.runId} ${ctx.nodeId}\n`);
    while (params.waitFor !== '' && !existsSync(params.waitFor)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      ctx.signal.throwIfAborted();
    }
    return { value: ((inputs.a as number | undefined) ?? 0) + params.value };
  },
});
export const testCatalog = makeCatalog([...nodeDefinitions, hold, steps, checkpoint] as AnyNodeDefinition[]);

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestServer {
  url: string;
  dataDir: string;
  server: PicflowServer;
  /** A JSON request; `body` given as a string is sent as is (for malformed JSON). */
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  /** A connected socket.io client recording every event from the first (closed with the server). */
  client(query?: Record<string, string>): Promise<Client>;
  close(): Promise<void>;
}

export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'picflow-server-')));
  const server = await startServer({ port: 0, catalog: testCatalog, logger: createLogger('silent'), ...options, dataDir });
  const sockets: Socket[] = [];
  return {
    url: server.url,
    dataDir,
    server,
    api: (method, path, body, headers = {}) => request(server.url, method, path, body, headers),
    client: async (query) => {
      const client = connect(server.url, query);
      sockets.push(client.socket);
      await client.connected;
      return client;
    },
    close: async () => {
      for (const socket of sockets) socket.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a token in a data dir's database as `picflow token create` does (a running server sees it at once). */
export async function createToken(dataDir: string, scope: Scope, name: string = scope): Promise<string> {
  const db = await Database.open(databasePath(dataDir));
  try {
    await migrate(db);
    return (await new TokenStore(db).create({ scope, name })).token;
  } finally {
    await db.close();
  }
}

/** A test server started with `auth` (as `serve --auth`), and the headers of an admin token made before it started. */
export async function startAuthedTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer & { admin: Record<string, string> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'picflow-server-'));
  const admin = { authorization: `Bearer ${await createToken(dataDir, 'admin')}` };
  return { ...(await startTestServer({ ...options, dataDir, auth: true })), admin };
}

export interface ServerProcess {
  process: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  api: (method: string, path: string, body?: unknown) => Promise<Reply>;
}

const serverProcesses: ChildProcess[] = [];

/** The real server (server-entry.ts: the tests' catalog) as a child process on `dataDir`; resolves once it prints its URL. */
export async function spawnServer(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server-entry.ts'), dataDir], {
    env: { ...process.env, PICFLOW_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  serverProcesses.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('{"url"')) resolve(JSON.parse(line).url);
    });
    void exited.then(({ code }) => reject(new Error(`the server exited (${code}) before it listened`)));
  });
  return { process: child, url, exited, api: (method, path, body) => request(url, method, path, body) };
}

/** SIGKILLs every server process spawned here that still runs (after a suite). */
export function killServers(): void {
  for (const child of serverProcesses) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export async function request<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, body: type.includes('json') && text ? JSON.parse(text) : text };
}

export interface Event {
  name: string;
  data: any;
}

export interface Client {
  socket: Socket;
  connected: Promise<void>;
  /** Every event received, in order. */
  events: Event[];
  /** The first event (received or to come) named `name` whose data passes `where`. */
  next(name: string, where?: (data: any) => boolean): Promise<Event>;
  /** The events of one run. */
  of(runId: string): Event[];
  /** The events of one run as `name` or `name nodeId`, in order. */
  trace(runId: string): string[];
}

/** A socket.io client that records events from before it connects, so that none can slip past. */
export function connect(url: string, query?: Record<string, string>): Client {
  const socket = io(url, { query, transports: ['websocket'], reconnection: false, autoConnect: false });
  const events: Event[] = [];
  const waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  socket.onAny((name: string, data: unknown) => {
    const event = { name, data };
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.match(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  socket.connect();
  const of = (runId: string) => events.filter((e) => e.data?.runId === runId || e.data?.id === runId);
  return {
    socket,
    connected,
    events,
    next(name, where = () => true) {
      const match = (e: Event) => e.name === name && where(e.data);
      const seen = events.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
    of,
    trace: (runId) => of(runId).map((e) => (e.data.nodeId ? `${e.name} ${e.data.nodeId}` : e.name)),
  };
}

/** A small PNG (solid colour). */
export function png(width = 8, height = 8, colour = { r: 200, g: 40, b: 40 }): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
}

export async function upload(base: string, bytes: Uint8Array, filename = 'image.png', field = 'file'): Promise<Reply> {
  const form = new FormData();
  form.append(field, new Blob([Uint8Array.from(bytes)]), filename);
  const response = await fetch(`${base}/api/uploads`, { method: 'POST', body: form });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** The trace (Client.trace) of a `workflows.counted(total)` run that succeeds. */
export function countedTrace(total: number): string[] {
  return [
    'run:queued',
    'run:started',
    'node:started count',
    ...Array<string>(total).fill('node:progress count'),
    'node:finished count',
    'node:started out',
    'node:finished out',
    'run:finished',
  ];
}

/** Workflows the suites share: smallest ones that show a behaviour. */
export const workflows = {
  /** A named prompt `subject` joined with fixed text: `caption` = "<subject> in the center". */
  caption: (text = 'a red circle') => ({
    version: 1,
    name: 'caption',
    nodes: {
      subject: { type: 'prompt', params: { name: 'subject', text } },
      place: { type: 'prompt', params: { text: 'in the center' } },
      joined: { type: 'text', inputs: { a: ['subject', 'text'], b: ['place', 'text'] } },
      caption: { type: 'output', params: { name: 'caption' }, inputs: { value: ['joined', 'text'] } },
    },
  }),
  /** The caption workflow and a counter whose `total` triggers expose (`count.total`): a text and a number output. */
  captionAndCount: (name: string) => ({
    version: 1,
    name,
    nodes: {
      ...workflows.caption().nodes,
      count: { type: 'steps', params: { total: 2 } },
      counted: { type: 'output', params: { name: 'count' }, inputs: { value: ['count', 'value'] } },
    } as Record<string, unknown>,
  }),
  /** Held mid-run by gate `gate` until it opens or the run is cancelled. */
  held: (gateName: string) => ({
    version: 1,
    name: 'held',
    nodes: {
      wait: { type: 'hold', params: { gate: gateName } },
      out: { type: 'output', params: { name: 'value' }, inputs: { value: ['wait', 'value'] } },
    },
  }),
  /** Counts to `total` in `total` progress steps (node `count`); output `count` is `total`. */
  counted: (total: number) => ({
    version: 1,
    nodes: {
      count: { type: 'steps', params: { total } },
      out: { type: 'output', params: { name: 'count' }, inputs: { value: ['count', 'value'] } },
    },
  }),
  /** The tiny model draws a prompt (node `g`, with its sampling steps as progress) and saves it as `out`. */
  generated: (seed: number) => ({
    version: 1,
    nodes: {
      p: { type: 'prompt', params: { text: 'a small green triangle at the top on a black background' } },
      g: { type: 'generate', params: { seed }, inputs: { prompt: ['p', 'text'] } },
      out: { type: 'save-image', inputs: { image: ['g', 'image'] } },
    },
  }),
  /** Loads an uploaded image and saves it resized. */
  resized: (artifact: string, width = 16, height = 12) => ({
    version: 1,
    name: 'resized',
    nodes: {
      load: { type: 'load-image', params: { artifact } },
      small: { type: 'resize', params: { width, height }, inputs: { image: ['load', 'image'] } },
      out: { type: 'save-image', params: { name: 'small' }, inputs: { image: ['small', 'image'] } },
    },
  }),
};
