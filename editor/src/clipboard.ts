// Copy, cut, paste and duplicate: the selection as a workflow fragment, on the system clipboard when
// the page may write it and always in the page.

import type { Canvas } from './canvas/canvas';
import type { Notices } from './notices';
import { parseWorkflow } from './serialize';
import type { Workflow } from '../../engine/contract';

export class Clipboard {
  private fragment: Workflow | null = null;

  constructor(
    private readonly canvas: () => Canvas | null,
    private readonly notices: Notices,
  ) {}

  async copy(): Promise<boolean> {
    const fragment = this.canvas()?.copySelection();
    if (!fragment) return false;
    this.fragment = fragment;
    try {
      await navigator.clipboard?.writeText(JSON.stringify(fragment));
    } catch {
      /* the in-page clipboard still works */
    }
    this.notices.toast('info', `Copied ${Object.keys(fragment.nodes).length} node(s)`);
    return true;
  }

  async cut(): Promise<void> {
    if (await this.copy()) await this.canvas()?.deleteSelected();
  }

  async paste(at?: { x: number; y: number }): Promise<void> {
    let fragment = this.fragment;
    try {
      const text = await navigator.clipboard?.readText();
      if (text) fragment = parseWorkflow(JSON.parse(text));
    } catch {
      /* not a workflow on the system clipboard, or no permission: use the in-page one */
    }
    const canvas = this.canvas();
    if (!fragment || !canvas) return;
    await canvas.paste(fragment, at);
  }

  async duplicate(): Promise<void> {
    const canvas = this.canvas();
    const fragment = canvas?.copySelection();
    if (canvas && fragment) await canvas.paste(fragment);
  }
}
