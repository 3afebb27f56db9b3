// Live run events over socket.io (DESIGN "socket.io events"). The server puts every connection in
// the global feed (the queue panel reads it); watching a run sends `subscribe { runId }`, which
// answers with `run:state` (the run as it is now) before the run's next events.

import type { Socket } from 'socket.io-client';
import { RUN_MESSAGE_TYPES, type RunMessage } from '../../engine/contract';
import type { RunDetail } from './api';
import { apiToken, needToken } from './auth';

/** What the page's listeners hear: the server's run messages, and a watched run's state on (re)subscribing. */
export type FeedMessage = RunMessage | { type: 'run:state'; runId: string; run: RunDetail };

type Listener = (message: FeedMessage) => void;

/**
 * One socket for the page: per-run watchers and feed listeners, re-joined after a reconnect. The
 * socket.io client is downloaded on first use, so it is not in the page's first script.
 */
export class RunFeed {
  private socket: Socket | null = null;
  private connecting = false;
  private readonly watchers = new Map<string, Set<Listener>>();
  private readonly feed = new Set<Listener>();
  private readonly stateListeners = new Set<(connected: boolean) => void>();

  private connect(): void {
    if (this.connecting) return;
    this.connecting = true;
    // The token goes in the handshake (a browser WebSocket cannot send headers); read at each (re)connect.
    let sentWith: string | null = null;
    const auth = (send: (data: object) => void) => send({ token: (sentWith = apiToken.get()) ?? undefined });
    void import('socket.io-client').then(({ io }) => {
      const socket = io({ transports: ['websocket', 'polling'], auth });
      // Refused for want of a token: socket.io does not retry that by itself; it does once there is one.
      socket.on('connect_error', (err: Error & { data?: { status?: number } }) => {
        if (err.data?.status === 401) void needToken(sentWith, sentWith ? err.message : '').then((retry) => retry && socket.connect());
      });
      this.open(socket);
    });
  }

  private open(socket: Socket): void {
    socket.on('connect', () => {
      for (const runId of this.watchers.keys()) this.join(runId);
      for (const l of this.stateListeners) l(true);
    });
    socket.on('disconnect', () => {
      for (const l of this.stateListeners) l(false);
    });
    for (const type of RUN_MESSAGE_TYPES) {
      socket.on(type, (payload: Record<string, unknown>) => this.deliver({ ...payload, type } as RunMessage));
    }
    socket.on('run:state', (run: RunDetail & { id: string }) => {
      const message: FeedMessage = { type: 'run:state', runId: run.id, run };
      for (const l of this.watchers.get(run.id) ?? []) l(message);
    });
    this.socket = socket;
  }

  private join(runId: string): void {
    this.socket?.emit('subscribe', { runId });
  }

  private deliver(message: RunMessage): void {
    for (const l of this.watchers.get(message.runId) ?? []) l(message);
    for (const l of this.feed) l(message);
  }

  /** Watches one run: first its current state (`run:state`), then its events in order. */
  watch(runId: string, listener: Listener): () => void {
    this.connect();
    let set = this.watchers.get(runId);
    if (!set) {
      this.watchers.set(runId, (set = new Set()));
      if (this.socket?.connected) this.join(runId);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.watchers.delete(runId);
        this.socket?.emit('unsubscribe', { runId });
      }
    };
  }

  /** Every run's messages (for the queue panel). */
  onFeed(listener: Listener): () => void {
    this.connect();
    this.feed.add(listener);
    return () => this.feed.delete(listener);
  }

  onConnection(listener: (connected: boolean) => void): () => void {
    this.connect();
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }
}

export const runFeed = new RunFeed();
