// The model runtime as the engine core knows it: a service the host builds and hands in through
// Services, which model nodes call and the core only passes on. The core names no runtime module:
// the runtime gives this interface its members (declaration merging, engine/runtime/host-binding.ts).

/** The host's model runtime (models, shared sessions, device queue); its members are the runtime's. */
export interface ModelHost {}
