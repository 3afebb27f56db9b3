// Prompts a ComfyUI client took out of its history (`POST /history` with `clear` or `delete`). ComfyUI's
// history is its own; picflow's is the run history its own API and editor share, so a cleared prompt is
// only hidden from `/history`: its run stays. Kept in memory, as ComfyUI keeps its history (a restart
// shows them again).

/** The runs `/history` no longer shows. */
export class ClearedHistory {
  private hidden = new Set<string>();

  hides(runId: string): boolean {
    return this.hidden.has(runId);
  }

  /**
   * Hides these runs, of those in `listed` (the runs `/history` shows now, hidden ones included): one outside
   * it has no entry yet (ComfyUI deletes only what its history holds) or has left the listing of the newest
   * runs for good, so the set stays as small as the listing.
   */
  hide(runIds: Iterable<string>, listed: ReadonlySet<string>): void {
    this.hidden = new Set([...this.hidden, ...runIds].filter((id) => listed.has(id)));
  }
}
