// A hook call's trigger, saved workflow, contract and compiled workflow, kept in memory until the trigger or workflow store is next
// written: the hook router and the hook door (door.ts) share one instance.
import type { CompiledWorkflow } from '../../engine/engine';
import type { AppContext } from '../context';
import { HttpError } from '../http-error';
import type { Trigger } from '../store/triggers';
import type { SavedWorkflow } from '../store/workflows';
import { deriveContract, type TriggerContract } from './contract';

/** Entries kept per kind: far more triggers than this is far beyond what a hook server sees at once. */
const KEPT = 256;

/** A Map that forgets its oldest entry past `KEPT`. */
function keep<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size >= KEPT) map.delete(map.keys().next().value!);
  map.set(key, value);
  return value;
}

const revisionOf = (saved: SavedWorkflow) => `${saved.id}@${saved.version}`;

export class HookLookup {
  private readonly contracts = new Map<string, TriggerContract>();
  /** Per saved workflow revision: checked once, each call's graph made from it (undefined: it does not validate; runs say why). */
  private readonly compiled = new Map<string, CompiledWorkflow | undefined>();
  readonly triggerBySlug: (slug: string) => Promise<Trigger | undefined>;
  private readonly savedWorkflow: (id: string) => Promise<SavedWorkflow | undefined>;

  constructor(private readonly ctx: AppContext) {
    this.triggerBySlug = this.untilWritten((slug) => ctx.triggers.bySlug(slug));
    this.savedWorkflow = this.untilWritten((id) => ctx.workflows.get(id));
  }

  /** The contract of a trigger's workflow as saved now (memoized per version and exposed params). */
  async contractOf(trigger: Trigger): Promise<{ saved: SavedWorkflow; contract: TriggerContract }> {
    const saved = await this.savedWorkflow(trigger.workflowId);
    if (!saved) throw new HttpError(404, `trigger '${trigger.slug}' has no workflow`);
    const key = `${revisionOf(saved)} ${JSON.stringify(trigger.inputs)}`;
    const contract = this.contracts.get(key) ?? keep(this.contracts, key, deriveContract(this.ctx.engine, saved.workflow, trigger.inputs));
    return { saved, contract };
  }

  /**
   * A saved workflow compiled once per version, for its calls' graphs: validating the same saved workflow on
   * every call was a tenth of a busy trigger server's work per run. Undefined when it does not validate.
   */
  compiledOf(saved: SavedWorkflow): CompiledWorkflow | undefined {
    const revision = revisionOf(saved);
    return this.compiled.has(revision) ? this.compiled.get(revision) : keep(this.compiled, revision, this.compile(saved.workflow));
  }

  private compile(workflow: unknown): CompiledWorkflow | undefined {
    try {
      return this.ctx.engine.compile(workflow);
    } catch {
      return undefined; // the run is refused by the engine's own check, with every issue named
    }
  }

  /**
   * A store read kept until the trigger or workflow store is next written: every hook call read its trigger and
   * workflow (three sqlite statements, each a trip to sqlite's thread) though they change rarely. The read itself
   * is kept while under way, so that a burst of calls makes one read, not one each.
   */
  private untilWritten<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
    const kept = new Map<string, { generation: string; value: Promise<T> }>();
    return (key) => {
      const generation = `${this.ctx.triggers.writes.generation}/${this.ctx.workflows.writes.generation}`; // before the read
      const hit = kept.get(key);
      if (hit?.generation === generation) return hit.value;
      const value = read(key);
      // A failed read is not kept: the next call reads again.
      value.catch(() => kept.get(key)?.value === value && kept.delete(key));
      return keep(kept, key, { generation, value }).value;
    };
  }
}
