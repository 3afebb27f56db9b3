// ComfyUI's `/ws`: a plain WebSocket beside socket.io. Clients are known by the `clientId` they connect
// with (a new connection with the same id takes its place, as in ComfyUI); what they send is ignored
// except for feature flags.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { Access } from '../auth/access';
import { HttpError } from '../http-error';

export const WS_PATHS = new Set(['/ws', '/api/ws']);

/** Binary frame kinds (the first 4 bytes, big-endian). */
export const PREVIEW_IMAGE = 1;
/** Image kinds inside a preview frame (the next 4 bytes). */
export const PNG_IMAGE = 2;

/** A client this far behind is sent no more previews until it catches up (JSON messages always go). */
const PREVIEW_BACKLOG_BYTES = 8 * 1024 * 1024;
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

/** The longest client id taken, here and as `/prompt`'s `client_id` (ComfyUI takes any string as either). */
export const MAX_CLIENT_ID_LENGTH = 128;

/**
 * The client id a `/ws` upgrade asks for, or a new one when it names none (as ComfyUI does). Any string is
 * kept as it is (clients are in a Map): a prompt queued with that `client_id` must find this socket.
 */
function askedClientId(url: URL): string {
  const asked = url.searchParams.get('clientId') ?? '';
  if (asked.length > MAX_CLIENT_ID_LENGTH) throw new HttpError(400, `clientId: at most ${MAX_CLIENT_ID_LENGTH} characters (got ${asked.length})`);
  return asked === '' ? randomUUID().replaceAll('-', '') : asked;
}

export class ComfySockets {
  private readonly clients = new Map<string, WebSocket>();
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });

  /**
   * @param greet what a client is sent when it connects (ComfyUI sends the queue's status, and the node its prompt executes)
   * @param features the server's answer to a client's feature flags
   * @param access who may connect (Host and Origin are checked for every upgrade before this; here the token)
   */
  constructor(
    private readonly greet: (clientId: string) => void,
    private readonly features: Record<string, unknown>,
    private readonly access: Access,
  ) {}

  /** Takes the upgrades of `/ws` and `/api/ws` on this HTTP server; others are left to socket.io. */
  attach(http: HttpServer): void {
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!WS_PATHS.has(url.pathname)) return;
      // A token in the query is for clients that cannot set headers on a WebSocket (browsers).
      this.access
        .authorize(req, { presented: url.searchParams.get('token') ?? undefined })
        .then(() => askedClientId(url))
        .then(
          (clientId) => this.server.handleUpgrade(req, socket, head, (ws) => this.connected(ws, clientId)),
          (err) => Access.refuseUpgrade(socket, err),
        );
    });
  }

  private connected(ws: WebSocket, clientId: string): void {
    this.clients.set(clientId, ws);
    ws.on('close', () => {
      if (this.clients.get(clientId) === ws) this.clients.delete(clientId);
    });
    ws.on('error', () => ws.terminate());
    let first = true;
    ws.on('message', (data, isBinary) => {
      if (first && !isBinary) {
        try {
          const message = JSON.parse(data.toString());
          if (message?.type === 'feature_flags') this.send(clientId, 'feature_flags', this.features);
        } catch {
          // Not JSON: nothing to answer.
        }
      }
      first = false;
    });
    this.greet(clientId);
  }

  /** Whether no client is connected (then nothing need be worked out for them). */
  get empty(): boolean {
    return this.clients.size === 0;
  }

  has(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  /** A JSON message `{ type, data }` to one client, or to all when `clientId` is null. */
  send(clientId: string | null, type: string, data: unknown): void {
    const text = JSON.stringify({ type, data });
    for (const ws of this.targets(clientId)) ws.send(text);
  }

  /** A binary preview: 4-byte frame kind, 4-byte image kind, then the PNG. */
  sendPreview(clientId: string, png: Uint8Array): void {
    const ws = this.clients.get(clientId);
    if (!ws || ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > PREVIEW_BACKLOG_BYTES) return;
    const header = Buffer.alloc(8);
    header.writeUInt32BE(PREVIEW_IMAGE, 0);
    header.writeUInt32BE(PNG_IMAGE, 4);
    ws.send(Buffer.concat([header, png]));
  }

  /** Closes every client (server shutdown): open WebSockets would keep the HTTP server from closing. */
  close(): void {
    // Every socket, replaced ones included (the server tracks them all).
    for (const ws of this.server.clients) ws.terminate();
    this.clients.clear();
    this.server.close();
  }

  private targets(clientId: string | null): WebSocket[] {
    const all = clientId === null ? [...this.clients.values()] : [this.clients.get(clientId)].filter((ws) => ws !== undefined);
    return all.filter((ws) => ws.readyState === WebSocket.OPEN);
  }
}
