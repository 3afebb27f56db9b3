// The props of a param's field and of the widget inside it (see schema-widgets.tsx).

import type { JsonSchema } from '../../engine/contract';
import type { WidgetKind } from './param-schema';
import type { ModelChoice } from './types';
import type { Vocabulary } from './vocabulary';

export interface FieldProps {
  nodeId: string;
  name: string;
  schema: JsonSchema;
  /** The value set on the node; undefined means the schema's default applies. */
  value: unknown;
  onChange(value: unknown): void;
  /** A problem the server reported for this field. */
  issue?: string;
  upload?(file: File): Promise<{ artifact: string; url: string }>;
  /** The server's models; a `model` param lists those that can do its node's task (`x-picflow-task`). */
  models?: ModelChoice[];
  /** The words the model takes (null: any text); given for nodes whose text goes to a model. */
  vocabulary?: Vocabulary;
}

export interface WidgetProps extends FieldProps {
  kind: WidgetKind;
  shown: unknown;
  inputId: string;
  testId: string;
  invalid: boolean;
}

/** The attributes every widget's main input carries (id, test id, invalid state, description). */
export type Common = Record<string, unknown> & { id: string };
