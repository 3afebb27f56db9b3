// The editor's copy of the engine's linking rule (engine/types.ts `linkProblem`), so that the browser
// bundle never pulls in engine code. The server checks every workflow again: this copy only spares
// the user a link that would be refused later.

import type { SocketType } from './types';

export function isList(type: SocketType): boolean {
  return type.endsWith('[]');
}

export function baseOf(type: SocketType): string {
  return isList(type) ? type.slice(0, -2) : type;
}

/**
 * Why an output of type `from` may not feed an input of type `to`, or null when it may.
 * Bases must match or one side must be `any`; list-ness never blocks a link (a list into a scalar
 * input maps the node over the list; a scalar into a list input becomes a one-element list).
 */
export function linkProblem(from: SocketType, to: SocketType): string | null {
  const a = baseOf(from);
  const b = baseOf(to);
  if (a === b || a === 'any' || b === 'any') return null;
  return `${from} cannot feed ${to}`;
}
