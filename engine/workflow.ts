import { z } from 'zod';

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

export type Link = z.infer<typeof LinkSchema>;
export type WorkflowNode = z.infer<typeof WorkflowNodeSchema>;
export type Workflow = z.infer<typeof WorkflowSchema>;

/** Run inputs: a named prompt or template variable (`subject`), or one node's param (`g.seed`). */
export type RunInputs = Record<string, unknown>;

/** One problem in a workflow: which node (null for the workflow as a whole), which field, and why. */
export interface WorkflowIssue {
  node: string | null;
  field: string;
  message: string;
}

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

export function formatIssue(issue: WorkflowIssue): string {
  const where = issue.node === null ? issue.field : `node '${issue.node}' ${issue.field}`;
  return `${where}: ${issue.message}`;
}
