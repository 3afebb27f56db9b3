// The runtime fills the engine core's ModelHost (engine/model-host.ts) with its own type, so that
// Services carries a ModelRuntime while the core imports nothing from engine/runtime.

import type { ModelRuntime } from './runtime';

declare module '../model-host' {
  interface ModelHost extends ModelRuntime {}
}
