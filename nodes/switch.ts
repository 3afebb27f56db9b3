import { z } from 'zod';
import { defineNode } from '../engine/node';

export default defineNode({
  type: 'switch',
  category: 'logic',
  description: 'Passes on `true` or `false` by the condition; only the chosen branch runs.',
  inputs: {
    condition: { type: 'boolean' },
    true: { type: 'any', lazy: true, optional: true },
    false: { type: 'any', lazy: true, optional: true },
  },
  outputs: { value: { type: 'any' } },
  params: z.object({}),
  lazy: (inputs) => {
    const condition = inputs.condition;
    // Mapped over a list of conditions, the switch needs each branch that some element chooses.
    const choices = Array.isArray(condition) ? condition : [condition];
    return [...new Set(choices.map((c) => (c ? 'true' : 'false')))];
  },
  run: (inputs) => {
    const branch = inputs.condition ? 'true' : 'false';
    if (!(branch in inputs)) throw new Error(`condition is ${inputs.condition} but input '${branch}' is not connected`);
    return { value: inputs[branch] };
  },
});
