import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import type { RunManager } from './run-manager';
import { sameOrigin } from './same-origin';

/** The room of all runs' events. */
const FEED = 'feed';
const runRoom = (runId: string) => `run:${runId}`;

const subscription = z.union([z.object({ runId: z.string().min(1) }), z.object({ all: z.literal(true) })]);
type Subscription = z.infer<typeof subscription>;
type Ack = (answer: { ok: boolean; error?: string; run?: unknown }) => void;

/**
 * socket.io on the HTTP server's port. A client joins the global feed, or one run's room with
 * `?runId=` at connect time or a `subscribe` message; joining a run's room first sends `run:state`
 * (the run as it is now), then that run's events follow in order.
 */
export function attachSocket(http: HttpServer, manager: RunManager): Server {
  const io = new Server(http, { serveClient: false, allowRequest: (req, callback) => callback(null, sameOrigin(req.headers)) });
  manager.onMessage((message) => {
    io.to(FEED).to(runRoom(message.runId)).emit(message.type, message);
  });

  async function subscribe(socket: Socket, request: Subscription, ack?: Ack): Promise<void> {
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
  return io;
}
