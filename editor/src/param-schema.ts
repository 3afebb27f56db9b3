// What a param's JSON Schema (zod's `toJSONSchema`, io: 'input') tells the editor: the widget that
// edits it, a number's step, a local hint for a value the server would refuse, and the value an
// edited text or option stands for. Pure functions; the widgets are in schema-widgets.tsx.

import type { JsonSchema } from '../../engine/contract';

export type WidgetKind = 'enum' | 'boolean' | 'integer' | 'number' | 'seed' | 'text' | 'multiline' | 'artifact' | 'json';

const MULTILINE_NAMES = new Set(['text', 'prompt', 'negative', 'instruction', 'template', 'caption', 'description']);

/** Collapses `anyOf`/`oneOf` (nullable or optional params) to the branch a widget can edit. */
export function resolveSchema(schema: JsonSchema): JsonSchema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return schema;
  const pick = branches.find((b) => b.type !== 'null') ?? branches[0] ?? {};
  return { ...pick, default: schema.default ?? pick.default, description: schema.description ?? pick.description };
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

export function widgetKind(name: string, raw: JsonSchema): WidgetKind {
  const schema = resolveSchema(raw);
  const type = typeOf(schema);
  if (schema.enum) return 'enum';
  if (type === 'boolean') return 'boolean';
  if (name === 'seed' && (type === 'integer' || type === 'number')) return 'seed';
  if (type === 'integer') return 'integer';
  if (type === 'number') return 'number';
  if (type === 'string') {
    if (name === 'artifact') return 'artifact';
    if (MULTILINE_NAMES.has(name) || (schema.maxLength ?? 0) > 1000) return 'multiline';
    return 'text';
  }
  return 'json';
}

/** The number input's step: whole numbers for integers, else a round fraction of the range. */
export function stepFor(kind: WidgetKind, schema: JsonSchema): number | 'any' {
  if (schema.multipleOf) return schema.multipleOf;
  if (kind === 'integer' || kind === 'seed') return 1;
  const { minimum, maximum } = schema;
  if (minimum === undefined || maximum === undefined) return 'any';
  const span = maximum - minimum;
  if (span <= 0) return 'any';
  return 10 ** Math.floor(Math.log10(span / 100));
}

/** A local hint for a value the server would refuse (it checks again); null when it looks fine. */
export function localProblem(kind: WidgetKind, schema: JsonSchema, value: unknown): string | null {
  if (value === undefined) return null;
  if (kind === 'integer' || kind === 'number' || kind === 'seed') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'not a number';
    if ((kind === 'integer' || kind === 'seed') && !Number.isInteger(value)) return 'must be a whole number';
    if (schema.minimum !== undefined && value < schema.minimum) return `at least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `at most ${schema.maximum}`;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return `more than ${schema.exclusiveMinimum}`;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return `less than ${schema.exclusiveMaximum}`;
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `at most ${schema.maxLength} characters`;
    if (schema.pattern) {
      try {
        if (!new RegExp(schema.pattern, 'u').test(value)) return 'not allowed here (letters, digits, _ and -)';
      } catch {
        /* a pattern JavaScript cannot read: leave it to the server */
      }
    }
  }
  return null;
}

/** An emptied field with no default of its own is unset, not `""` (the server tells the two apart). */
export function textValue(schema: JsonSchema, text: string): string | undefined {
  return text === '' && (schema.default === undefined || schema.default === '') ? undefined : text;
}

export function enumValue(schema: JsonSchema, text: string): unknown {
  return schema.enum!.find((option) => String(option) === text) ?? text;
}
