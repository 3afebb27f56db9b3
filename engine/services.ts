import type { ModelHost } from './model-host';

/**
 * What the host (CLI or server) hands to nodes. The engine only passes it through; each host decides
 * what is allowed (the server, for one, never lets a workflow read a file path).
 */
export interface ArtifactReader {
  /** The stored bytes of an uploaded or produced artifact; throws when the id is unknown. */
  read(id: string): Promise<Uint8Array>;
}

export interface Services {
  /** Whether `load-image` may read file paths (CLI: yes; server: no, artifacts only). */
  allowFilePaths: boolean;
  /** Relative file paths resolve against this folder (the CLI uses the workflow file's folder). */
  baseDir?: string;
  artifacts?: ArtifactReader;
  /** The model runtime (models, shared sessions, device queue) that model nodes call; the host builds it. */
  models?: ModelHost;
}

/** The services a host starts with: what it allows and the model runtime it built (hosts share one per process). */
export function createServices(options: Services): Services {
  return { ...options };
}
