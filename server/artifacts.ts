// Content-addressed image storage: PNG files named by their sha256, their rows in sqlite, and how images appear in JSON.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageRef } from '../engine/contract';
import type { Graph } from '../engine/graph';
import { encodePng, type ImageValue } from '../engine/image';
import type { ArtifactReader } from '../engine/services';
import type { Database } from './db';

/** Artifact ids are the sha256 of the content, in lowercase hex: nothing else ever reaches a path. */
export const ARTIFACT_ID = /^[0-9a-f]{64}$/;

export interface ArtifactInfo {
  id: string;
  contentType: string;
  bytes: number;
  width: number;
  height: number;
  source: 'upload' | 'run';
  createdAt: number;
}

/** How an image appears in JSON (run outputs, socket events, upload answers): the contract's shape. */
export type { ImageRef };

export function artifactUrl(id: string): string {
  return `/api/artifacts/${id}`;
}

/** The id an artifact with these bytes has (on the server, or computed by a worker before handing it over). */
export function artifactId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function imageRefOf(id: string, width: number, height: number): ImageRef {
  return { artifact: id, url: artifactUrl(id), width, height };
}

/** What `load-image` meets when an id leads to no artifact. */
export function missingArtifact(id: string): Error {
  return new Error(ARTIFACT_ID.test(id) ? `unknown artifact '${id}'` : `'${id}' is not an artifact id (64 hex digits)`);
}

/** The artifact ids a run's nodes name in their params (e.g. `load-image`'s `artifact`), run inputs applied. */
export function referencedArtifacts(graph: Graph): string[] {
  const ids = new Set<string>();
  const note = (value: unknown) => typeof value === 'string' && ARTIFACT_ID.test(value) && ids.add(value);
  // Every run's graph is walked (a hook server's many small runs): no flattened copy of each node's params.
  for (const node of graph.nodes.values()) {
    for (const value of Object.values(node.params)) {
      if (Array.isArray(value)) value.forEach(note);
      else note(value);
    }
  }
  return ids.size === 0 ? [] : [...ids];
}

interface ArtifactRow {
  id: string;
  content_type: string;
  bytes: number;
  width: number;
  height: number;
  source: 'upload' | 'run';
  created_at: number;
}

/**
 * Content-addressed files under `<dir>/<first two hex digits>/<id>`, indexed in sqlite. A file is
 * written to `tmp/` and renamed into place before its index row exists, so a crash never leaves an
 * indexed artifact half written.
 */
export class ArtifactStore implements ArtifactReader {
  /** One PNG encoding per image object: the same image reported by several nodes is stored once. */
  private readonly refs = new WeakMap<ImageValue, Promise<ImageRef>>();

  private constructor(
    private readonly db: Database,
    private readonly dir: string,
  ) {}

  static async open(db: Database, dir: string): Promise<ArtifactStore> {
    // Temp files left by a crash are incomplete by definition.
    await rm(join(dir, 'tmp'), { recursive: true, force: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    return new ArtifactStore(db, dir);
  }

  async put(bytes: Uint8Array, meta: Pick<ArtifactInfo, 'contentType' | 'width' | 'height' | 'source'>): Promise<ArtifactInfo> {
    const id = artifactId(bytes);
    const known = await this.info(id);
    if (known) return known;
    const temp = join(this.dir, 'tmp', `${id}.${randomUUID()}`);
    await writeFile(temp, bytes);
    await mkdir(join(this.dir, id.slice(0, 2)), { recursive: true });
    await rename(temp, this.path(id));
    const info: ArtifactInfo = { id, bytes: bytes.length, createdAt: Date.now(), ...meta };
    await this.db.run(
      'INSERT OR IGNORE INTO artifacts (id, content_type, bytes, width, height, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [id, info.contentType, info.bytes, info.width, info.height, info.source, info.createdAt],
    );
    return info;
  }

  /** The index entry, or undefined for an unknown or malformed id (the filesystem is not touched). */
  async info(id: string): Promise<ArtifactInfo | undefined> {
    if (!ARTIFACT_ID.test(id)) return undefined;
    const row = await this.db.get<ArtifactRow>('SELECT * FROM artifacts WHERE id = ?', [id]);
    return (
      row && {
        id: row.id,
        contentType: row.content_type,
        bytes: row.bytes,
        width: row.width,
        height: row.height,
        source: row.source,
        createdAt: row.created_at,
      }
    );
  }

  /** The content of an indexed artifact (only an index entry leads to a file). */
  stream(info: ArtifactInfo): ReadStream {
    return createReadStream(this.path(info.id));
  }

  /** For `load-image`: the bytes of an artifact, or an error naming the id. */
  async read(id: string): Promise<Uint8Array> {
    const info = await this.info(id);
    if (!info) throw missingArtifact(id);
    return readFile(this.path(info.id));
  }

  /** Stores a run's image as PNG and returns its JSON form. */
  imageRef(image: ImageValue): Promise<ImageRef> {
    let ref = this.refs.get(image);
    if (!ref) {
      ref = encodePng(image).then(async (png) => {
        const info = await this.put(png, { contentType: 'image/png', width: image.width, height: image.height, source: 'run' });
        return imageRefOf(info.id, info.width, info.height);
      });
      // A failed write must not be remembered as the image's artifact.
      ref.catch(() => this.refs.delete(image));
      this.refs.set(image, ref);
    }
    return ref;
  }

  private path(id: string): string {
    return join(this.dir, id.slice(0, 2), id);
  }
}
