// The socket.io bridge: every client in the global feed, run rooms on subscribe, tokens checked.
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import type { Access, Principal } from './auth/access';
import { HttpError } from './http-error';
import type { RunManager } from './run-manager';

/** The room of all runs' events. */
const FEED = 'feed';
const runRoom = (runId: string) => `run:${runId}`;
/** How often connected sockets' tokens are checked for revocation (`picflow token revoke` runs in another process). */
const REVOCATION_SWEEP_MS = 15_000;

const subscription = z.union([z.object({ runId: z.string().min(1) }), z.object({ all: z.literal(true) })]);
type Subscription = z.infer<typeof subscription>;
type Ack = (answer: { ok: boolean; error?: string; run?: unknown }) => void;

const principalOf = (socket: Socket) => socket.data.principal as Principal;

/**
 * socket.io on the HTTP server's port. A client joins the global feed, or one run's room with
 * `?runId=` at connect time or a `subscribe` message; joining a run's room first sends `run:state`
 * (the run as it is now), then that run's events follow in order.
 *
 * Who sees what: the handshake passes the Host allow-list and the Origin check, and, when auth is on,
 * carries a token (`auth: { token }`, or `Authorization: Bearer`) with at least the read scope, or
 * the connection is refused (`connect_error` with `data.status` 401/403). Tokens are server-wide and
 * runs have no owner, so a read token sees every run's events, as it can read every run over HTTP;
 * without auth (loopback, no `--auth`) every local client does, as before. A token revoked while
 * connected is disconnected at the next sweep or subscribe.
 */
export function attachSocket(http: HttpServer, manager: RunManager, access: Access): Server {
  const io = new Server(http, {
    serveClient: false,
    // A refused handshake gets 403 with the reason (upgrades are refused before this, by access.guardUpgrades).
    allowRequest: (req, callback) => {
      try {
        access.assertConnection(req);
        callback(null, true);
      } catch (err) {
        callback((err as Error).message, false);
      }
    },
  });
  const rooms = io.of('/').adapter.rooms;
  manager.onMessage((message) => {
    // socket.io encodes a broadcast before it looks for receivers: skip it when nobody follows this run.
    const room = runRoom(message.runId);
    if (!rooms.has(FEED) && !rooms.has(room)) return;
    io.to(FEED).to(room).emit(message.type, message);
  });

  io.use((socket, next) => {
    access.authorize(socket.request, { presented: (socket.handshake.auth as { token?: unknown } | undefined)?.token }).then(
      (principal) => {
        socket.data.principal = principal;
        next();
      },
      (err: Error) => next(Object.assign(new Error(err.message), { data: { status: err instanceof HttpError ? err.status : 500 } })),
    );
  });

  async function subscribe(socket: Socket, request: Subscription, ack?: Ack): Promise<void> {
    if (!(await access.stillValid(principalOf(socket)))) {
      ack?.({ ok: false, error: 'the API token was revoked' });
      socket.disconnect(true);
      return;
    }
    if ('all' in request) {
      await socket.join(FEED);
      ack?.({ ok: true });
      return;
    }
    // Joined in the same tick as the snapshot is taken: no event can fall between the two.
    const live = manager.snapshot(request.runId);
    const run = live ?? (await manager.get(request.runId));
    if (!run) {
      ack?.({ ok: false, error: `no run '${request.runId}'` });
      return;
    }
    void socket.join(runRoom(request.runId));
    socket.emit('run:state', run);
    ack?.({ ok: true, run });
  }

  // A run that cannot be read (say, the database is closing) is answered, never left as an unhandled rejection.
  const trySubscribe = (socket: Socket, request: Subscription, ack?: Ack) =>
    subscribe(socket, request, ack).catch((err: Error) => ack?.({ ok: false, error: `cannot subscribe: ${err.message}` }));

  io.on('connection', (socket) => {
    const { runId } = socket.handshake.query;
    void trySubscribe(socket, typeof runId === 'string' && runId !== '' ? { runId } : { all: true });

    socket.on('subscribe', (request: unknown, ack?: unknown) => {
      const parsed = subscription.safeParse(request);
      const reply = typeof ack === 'function' ? (ack as Ack) : undefined;
      if (!parsed.success) reply?.({ ok: false, error: 'subscribe to { runId } or { all: true }' });
      else void trySubscribe(socket, parsed.data, reply);
    });

    socket.on('unsubscribe', (request: unknown, ack?: unknown) => {
      const parsed = subscription.safeParse(request);
      if (parsed.success) void socket.leave('all' in parsed.data ? FEED : runRoom(parsed.data.runId));
      if (typeof ack === 'function') (ack as Ack)({ ok: parsed.success });
    });
  });

  if (access.enabled) {
    const sweep = setInterval(() => {
      for (const socket of io.of('/').sockets.values()) {
        access.stillValid(principalOf(socket)).then(
          (valid) => valid || socket.disconnect(true),
          () => undefined, // the database is closing: the server is going away with its sockets
        );
      }
    }, REVOCATION_SWEEP_MS);
    sweep.unref();
    http.once('close', () => clearInterval(sweep));
  }
  return io;
}
