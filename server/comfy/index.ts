// ComfyUI's API beside picflow's: HTTP routes, the `/ws` WebSocket and the bridge from runs to its
// messages. Prompts queued through it are ordinary runs (source `comfy-api`).
import type { Server as HttpServer } from 'node:http';
import type { Router } from 'express';
import type { AppContext } from '../context';
import { ComfyHistory } from './history';
import { PromptBook } from './prompts';
import { PromptQueue } from './queue-prompt';
import { ComfyRelay } from './relay';
import { comfyRoutes } from './routes';
import { ComfySockets } from './socket';

export { comfyBodyType } from './routes';

export class ComfyApi {
  readonly routes: Router;
  private readonly sockets: ComfySockets;
  private readonly relay: ComfyRelay;

  constructor(ctx: AppContext) {
    const book = new PromptBook();
    const onError = (err: unknown) => ctx.logger.warn({ err }, 'ComfyUI message not sent');
    this.sockets = new ComfySockets(
      (clientId) => void this.relay.greet(clientId).catch(onError),
      { supports_preview_metadata: false, max_upload_size: ctx.limits.uploadBytes },
      ctx.access,
    );
    this.relay = new ComfyRelay({ manager: ctx.manager, book, sockets: this.sockets, artifacts: ctx.artifacts, catalog: ctx.engine.catalog, onError });
    this.routes = comfyRoutes({
      ctx,
      book,
      history: new ComfyHistory(ctx.engine.catalog),
      prompts: new PromptQueue(ctx.engine, ctx.manager, book, this.relay),
      queueRemaining: () => this.relay.queueRemaining(),
    });
  }

  /** Serves `/ws` (and `/api/ws`) on the HTTP server. */
  attach(http: HttpServer): void {
    this.sockets.attach(http);
  }

  /** Stops relaying and closes every `/ws` client (they would keep the HTTP server open). */
  close(): void {
    this.relay.close();
    this.sockets.close();
  }
}
