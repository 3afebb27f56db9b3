// What the express app and its routes share: the stores, the run manager, limits and settings.
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine';
import type { ArtifactStore } from './artifacts';
import type { Access } from './auth/access';
import type { CallbackDispatcher } from './hooks/callbacks';
import type { RunManager } from './run-manager';
import type { RunStore } from './store/runs';
import type { TriggerStore } from './store/triggers';
import type { WorkflowStore } from './store/workflows';

export interface Limits {
  /** Largest JSON body, in bytes. */
  jsonBytes: number;
  /** Largest upload, in bytes. */
  uploadBytes: number;
  /** Largest upload, in pixels (width × height). */
  uploadPixels: number;
  /** Deepest nesting of objects and arrays in a JSON body. */
  jsonDepth: number;
}

/** What the routes share: the stores, the run manager and the settings of this server. */
export interface AppContext {
  engine: Engine;
  manager: RunManager;
  workflows: WorkflowStore;
  triggers: TriggerStore;
  runs: RunStore;
  artifacts: ArtifactStore;
  /** Posts finished hook runs to their callback URLs. */
  callbacks: CallbackDispatcher;
  logger: Logger;
  /** Host allow-list and API tokens: mount `access.require(scope?)` on routes outside `/api`. */
  access: Access;
  limits: Limits;
  /** The built editor (index.html and assets); served at `/` when present. */
  editorDir: string;
  /** Example workflows offered by `GET /api/templates`. */
  templatesDir: string;
  version: string;
  startedAt: number;
}
