// Cancel requests from the server to the worker holding a run, over Redis.
import type { Redis } from 'ioredis';

const CHANNEL = 'picflow:cancel';
const key = (runId: string) => `picflow:cancel:${runId}`;
const TTL_SECONDS = 24 * 60 * 60;

/**
 * Cancel requests from the server to whichever worker holds the run. The message reaches a worker
 * that is running it now; the key catches a worker that takes the job just after the request (it
 * registers the run, then looks). A worker cut off from Redis at that moment misses the message.
 */
export async function requestCancel(redis: Redis, runId: string): Promise<void> {
  await redis.multi().set(key(runId), '1', 'EX', TTL_SECONDS).publish(CHANNEL, runId).exec();
}

/** Forgets an earlier request: a run queued again under its id (resumed) must not be cancelled by it. */
export async function withdrawCancel(redis: Redis, runId: string): Promise<void> {
  await redis.del(key(runId));
}

export async function cancelRequested(redis: Redis, runId: string): Promise<boolean> {
  return (await redis.exists(key(runId))) === 1;
}

/** `subscriber` becomes a subscriber connection (it can send nothing else). */
export async function onCancelRequest(subscriber: Redis, listener: (runId: string) => void): Promise<void> {
  subscriber.on('message', (channel: string, runId: string) => {
    if (channel === CHANNEL) listener(runId);
  });
  await subscriber.subscribe(CHANNEL);
}
