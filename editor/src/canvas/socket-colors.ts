import { baseOf, isList } from '../../../engine/contract';

/** One colour per base type; lists share their base's colour and are drawn as a ring. */
const COLOURS: Record<string, string> = {
  text: '#e0b44a',
  image: '#4aa3e0',
  number: '#5cc46a',
  boolean: '#c26fe0',
  any: '#9aa4b2',
};

export function socketColour(type: string): string {
  return COLOURS[baseOf(type)] ?? COLOURS.any;
}

export function socketClass(type: string): string {
  return `socket socket-${baseOf(type).replace(/[^a-z0-9-]/gi, '')}${isList(type) ? ' socket-list' : ''}`;
}

export const SOCKET_LEGEND = Object.keys(COLOURS);
