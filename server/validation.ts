// Validation of a workflow as it is saved (complete except for the values each run supplies).
import type { Engine } from '../engine/engine';
import { templateVariables } from '../engine/run-inputs';
import type { RunInputs, WorkflowIssue } from '../engine/contract';

/**
 * Validates a workflow as it is saved: complete except for the values it asks of each run. A
 * `{subject}` in a prompt is such a value (triggers and runs fill it), so it counts as given here.
 */
export function validateForSave(engine: Engine, workflow: unknown): WorkflowIssue[] {
  // Null-prototype: a variable named like a built-in member (`{constructor}`) is an ordinary key here.
  const later: RunInputs = Object.create(null);
  const nodes = (workflow as { nodes?: unknown } | null)?.nodes;
  if (typeof nodes === 'object' && nodes !== null) {
    for (const node of Object.values(nodes) as { type?: unknown; params?: Record<string, unknown> }[]) {
      const named = typeof node?.type === 'string' ? engine.catalog.get(node.type)?.namedInput : undefined;
      const text = named?.template ? node.params?.[named.valueParam] : undefined;
      if (typeof text === 'string') for (const variable of templateVariables(text)) later[variable] = '';
    }
  }
  return engine.validate(workflow, later).errors;
}
