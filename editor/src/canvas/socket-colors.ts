// Socket colours by type, read from the style tokens (styles/tokens.css `--socket-<base>`), so that
// each colour is written once: nodes, links, the palette and the legend all use these values.
import { baseOf, BASE_TYPES, isList } from '../../../engine/contract';

const KNOWN = new Set<string>(BASE_TYPES);

/** One colour per base type; lists share their base's colour and are drawn as a ring. */
export function socketColour(type: string): string {
  const base = baseOf(type);
  return `var(--socket-${KNOWN.has(base) ? base : 'any'})`;
}

export function socketClass(type: string): string {
  return `socket socket-${baseOf(type).replace(/[^a-z0-9-]/gi, '')}${isList(type) ? ' socket-list' : ''}`;
}

export const SOCKET_LEGEND: readonly string[] = BASE_TYPES;
