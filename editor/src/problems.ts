// The server's complaints: validation problems shown on their nodes (workflow-wide ones in the side
// panel), and failed requests reported as toasts.

import { ApiError } from './api';
import type { Canvas } from './canvas/canvas';
import type { ViewContext } from './canvas/view-context';
import type { Notices } from './notices';
import { Observable } from './store';
import { formatIssue, type WorkflowIssue } from '../../engine/contract';

export class Problems {
  /** The problems no node on the canvas can show. */
  readonly general = new Observable<WorkflowIssue[]>([]);

  constructor(
    private readonly ctx: ViewContext,
    private readonly canvas: () => Canvas | null,
    private readonly notices: Notices,
  ) {}

  report(what: string, err: unknown): void {
    if (err instanceof ApiError && err.issues.length > 0) {
      this.set(err.issues);
      this.notices.toast('error', `${what}: ${err.issues.length === 1 ? formatIssue(err.issues[0]) : `${err.issues.length} problems, shown on the nodes`}`);
    } else this.notices.toast('error', `${what}: ${(err as Error).message}`);
  }

  /** Shows the server's validation problems on the nodes (and the workflow-wide ones in the panel). */
  set(issues: WorkflowIssue[]): void {
    const canvas = this.canvas();
    this.ctx.issues.clear();
    const byNode = new Map<string, WorkflowIssue[]>();
    const general: WorkflowIssue[] = [];
    for (const issue of issues) {
      if (issue.node && canvas?.editor.getNode(issue.node)) byNode.set(issue.node, [...(byNode.get(issue.node) ?? []), issue]);
      else general.push(issue);
    }
    for (const [node, list] of byNode) this.ctx.issues.set(node, list);
    this.general.set(general);
    const first = [...byNode.keys()][0];
    if (first) void canvas?.camera.reveal(first);
  }
}
