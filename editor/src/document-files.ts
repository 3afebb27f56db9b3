// The document to and from files: import a workflow JSON, or a PNG picflow wrote (it carries its
// workflow), as a new unsaved document; export the document as workflow JSON or in ComfyUI's API
// format, through the browser's download.

// The one converter to ComfyUI's API format: pure, with no runtime imports (the editor otherwise knows the engine only over HTTP).
import { toApiFormat } from '../../engine/api-format';
import { readWorkflow } from '../../engine/png-metadata';
import { formatIssue, type CatalogEntry, type Workflow } from '../../engine/contract';
import type { WorkflowDocument } from './document';
import type { Notices } from './notices';
import { parseWorkflow, WorkflowFileError } from './serialize';

/** A file name from the workflow's name. */
function fileStem(workflow: Workflow): string {
  return (workflow.name ?? 'workflow').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'workflow';
}

/** Saves JSON as a file through the browser's download. */
function download(fileName: string, value: unknown): void {
  const blob = new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export class DocumentFiles {
  constructor(
    private readonly doc: WorkflowDocument,
    private readonly catalog: () => CatalogEntry[],
    private readonly notices: Notices,
  ) {}

  private async importText(text: string, fileName = 'file'): Promise<boolean> {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      this.notices.toast('error', `Cannot import ${fileName}: not JSON (${(err as Error).message})`);
      return false;
    }
    return this.importData(data, fileName);
  }

  /** Opens a workflow read from a file (JSON, or the chunks of a PNG picflow wrote) as a new, unsaved one. */
  private async importData(data: unknown, fileName: string, note = ''): Promise<boolean> {
    let workflow: Workflow;
    try {
      workflow = parseWorkflow(data);
    } catch (err) {
      const reason = err instanceof WorkflowFileError ? err.message : (err as Error).message;
      this.notices.toast('error', `Cannot import ${fileName}: ${reason}`);
      return false;
    }
    if (!(await this.doc.confirmDiscard())) return false;
    this.doc.claimShow();
    const name = workflow.name ?? fileName.replace(/\.(json|png)$/i, '');
    await this.doc.show(workflow, { id: null, name, description: workflow.description }, false);
    this.notices.toast('info', `Imported "${name}" (not saved yet)${note}`);
    return true;
  }

  /** A dropped or picked file: a workflow JSON, or a PNG that carries its workflow. */
  async importFile(file: File): Promise<boolean> {
    if (file.type !== 'image/png' && !/\.png$/i.test(file.name)) return this.importText(await file.text(), file.name);
    const carried = await readWorkflow(new Uint8Array(await file.arrayBuffer()));
    if (!carried) {
      this.notices.toast('error', `Cannot import ${file.name}: it carries no picflow workflow (only PNGs picflow wrote do)`);
      return false;
    }
    const inputs = Object.entries(carried.inputs).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return this.importData(carried.workflow, file.name, inputs.length ? `; it ran with ${inputs.join(', ')}` : '');
  }

  exportFile(): void {
    const workflow = this.doc.workflow();
    download(`${fileStem(workflow)}.json`, workflow);
  }

  /** Downloads the workflow in ComfyUI's API format (what ComfyUI clients POST to `/prompt`). */
  exportApiFile(): void {
    const workflow = this.doc.workflow();
    const entries = new Map(this.catalog().map((entry) => [entry.type, entry]));
    const { prompt, issues } = toApiFormat(workflow, (type) => {
      const entry = entries.get(type);
      return entry && { inputs: entry.inputs.map((p) => p.name), outputs: entry.outputs.map((p) => p.name) };
    });
    if (issues.length > 0) {
      this.notices.toast('error', `Cannot export in API format: ${issues.length === 1 ? formatIssue(issues[0]) : `${issues.length} problems`}`);
      return;
    }
    download(`${fileStem(workflow)}.api.json`, prompt);
  }
}
