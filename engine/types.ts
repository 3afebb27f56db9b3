/** Socket types: the scalar kinds a value can have, and lists of each. */
export const BASE_TYPES = ['text', 'image', 'number', 'boolean', 'any'] as const;
export type BaseType = (typeof BASE_TYPES)[number];
export type SocketType = BaseType | `${BaseType}[]`;

export const SOCKET_TYPES: readonly SocketType[] = BASE_TYPES.flatMap((b) => [b, `${b}[]` as const]);

export function isList(type: SocketType): boolean {
  return type.endsWith('[]');
}

export function baseOf(type: SocketType): BaseType {
  return (isList(type) ? type.slice(0, -2) : type) as BaseType;
}

export function listOf(type: SocketType): SocketType {
  return `${baseOf(type)}[]`;
}

/**
 * Whether an output of type `from` may feed an input of type `to`; returns the reason when not.
 * List-ness never blocks a link: a list into a scalar input maps the node over the list,
 * a scalar into a list input becomes a one-element list.
 */
export function linkProblem(from: SocketType, to: SocketType): string | null {
  const a = baseOf(from);
  const b = baseOf(to);
  if (a === b || a === 'any' || b === 'any') return null;
  return `type mismatch: ${from} cannot feed an input of type ${to}`;
}
