// Workflow JSON v1 as a zod schema, the validator every host parses files with; the types it checks
// against are the contract's (engine/contract.ts), and the compiler holds the two together.
import { z } from 'zod';
import { formatIssue, type Link, type Workflow, type WorkflowIssue, type WorkflowNode } from './contract';

/** `[sourceNodeId, outputName]` on the target's input. */
export const LinkSchema = z.tuple([z.string().min(1), z.string().min(1)]);

export const WorkflowNodeSchema = z
  .object({
    type: z.string().min(1),
    title: z.string().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    inputs: z.record(z.string(), LinkSchema).optional(),
    ui: z.looseObject({ x: z.number(), y: z.number() }).optional(),
  })
  .strict();

export const WorkflowSchema = z
  .object({
    version: z.literal(1),
    name: z.string().optional(),
    description: z.string().optional(),
    nodes: z.record(z.string().min(1), WorkflowNodeSchema),
  })
  .strict();

// The schemas parse to exactly the contract's types (a compile error here means they drifted).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShapes: [
  Same<z.infer<typeof LinkSchema>, Link>,
  Same<z.infer<typeof WorkflowNodeSchema>, WorkflowNode>,
  Same<z.infer<typeof WorkflowSchema>, Workflow>,
] = [true, true, true];
void sameShapes;

/** The types these schemas parse to, for readers of this module. */
export type { Link, Workflow, WorkflowNode } from './contract';

export class WorkflowError extends Error {
  constructor(readonly issues: WorkflowIssue[]) {
    super(
      issues.length === 1
        ? formatIssue(issues[0])
        : `${issues.length} problems:\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`,
    );
    this.name = 'WorkflowError';
  }
}
