// Artifact bytes between the server and workers, through Redis hashes per run.
import type { Redis } from 'ioredis';
import { encodePng, type ImageValue } from '../../engine/image';
import type { ArtifactReader } from '../../engine/services';
import { artifactId, imageRefOf, missingArtifact, type ArtifactStore, type ImageRef } from '../artifacts';
import type { ImageSink } from '../json-values';

/** What a crash leaves behind goes away by itself after a day; a finished run's hash is deleted at once. */
const TTL_SECONDS = 24 * 60 * 60;
const key = (runId: string) => `picflow:transit:${runId}`;

/**
 * Artifact bytes between the server and a worker, so that they need no shared filesystem: each run
 * has a Redis hash of PNGs by artifact id (content-addressed, as in the store). The server puts there
 * the artifacts a run reads before queuing it; the worker puts there each image it reports, before the
 * event that names it; the server takes in those it lacks before relaying that event, and deletes the
 * hash when the run ends. Events and job data carry ids only, so the queue's event stream stays small.
 */
export class ArtifactTransit {
  /** Worker side: one PNG encoding per image object, however many runs report it (the output cache shares images). */
  private readonly encoded = new WeakMap<ImageValue, Promise<{ id: string; png: Buffer }>>();

  constructor(private readonly redis: Redis) {}

  /** Server side: hands over the stored artifacts a run reads; an unknown id is left for the worker to report by name. */
  async ship(runId: string, ids: string[], store: ArtifactStore): Promise<void> {
    for (const id of ids) {
      const bytes = await store.read(id).catch(() => undefined);
      if (bytes) await this.put(runId, id, bytes);
    }
  }

  /** Server side: stores the images named in a worker's report that the store does not have yet. */
  async receive(runId: string, refs: ImageRef[], store: ArtifactStore): Promise<void> {
    for (const ref of refs) {
      if (await store.info(ref.artifact)) continue;
      const bytes = await this.redis.hgetBuffer(key(runId), ref.artifact);
      if (!bytes) throw new Error(`the worker did not hand over artifact ${ref.artifact}`);
      const info = await store.put(bytes, { contentType: 'image/png', width: ref.width, height: ref.height, source: 'run' });
      if (info.id !== ref.artifact) throw new Error(`artifact ${ref.artifact} arrived with other content (${info.id})`);
    }
  }

  async drop(runId: string): Promise<void> {
    await this.redis.del(key(runId));
  }

  /** Worker side: `load-image` reads what the server shipped for this run. */
  reader(runId: string): ArtifactReader {
    return {
      read: async (id) => {
        const bytes = await this.redis.hgetBuffer(key(runId), id);
        if (!bytes) throw missingArtifact(id);
        return bytes;
      },
    };
  }

  /** Worker side: images of this run become artifact references, their PNGs handed over once per run. */
  sink(runId: string): ImageSink {
    const sent = new Map<string, Promise<void>>();
    return {
      imageRef: async (image) => {
        const { id, png } = await this.encode(image);
        let put = sent.get(id);
        if (!put) sent.set(id, (put = this.put(runId, id, png)));
        await put;
        return imageRefOf(id, image.width, image.height);
      },
    };
  }

  private encode(image: ImageValue): Promise<{ id: string; png: Buffer }> {
    let encoded = this.encoded.get(image);
    if (!encoded) {
      encoded = encodePng(image).then((png) => ({ id: artifactId(png), png }));
      encoded.catch(() => this.encoded.delete(image));
      this.encoded.set(image, encoded);
    }
    return encoded;
  }

  private async put(runId: string, id: string, bytes: Uint8Array): Promise<void> {
    await this.redis.multi().hset(key(runId), id, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).expire(key(runId), TTL_SECONDS).exec();
  }
}
