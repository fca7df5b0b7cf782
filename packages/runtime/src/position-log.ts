/**
 * Spout positions over time, so that the state file can save positions that keyed state has
 * caught up with. Positions move every second, keyed state is copied every stateSnapshotInterval:
 * a run killed between two copies and resumed from the latest positions would skip the tuples
 * whose updates the last copy lacks (counts lost, silently). Saved as of the oldest copy instead,
 * those tuples are replayed: at least once, as the positions promise.
 */
export class PositionLog {
  private readonly log = new Map<number, { at: number; position: unknown }[]>();

  /** `initial`: where each spout task started (a restored position), by task id. */
  constructor(private readonly initial: Readonly<Record<number, unknown>>) {}

  /** Task `task` saved `position` at `at` (ms since the epoch). */
  note(task: number, position: unknown, at: number): void {
    let entries = this.log.get(task);
    if (entries === undefined) this.log.set(task, (entries = []));
    entries.push({ at, position });
  }

  /** Each task's last position noted at or before `time`, else where it started (none: from the beginning). */
  asOf(time: number): Record<number, unknown> {
    const out: Record<number, unknown> = {};
    for (const [task, position] of Object.entries(this.initial)) out[Number(task)] = position;
    for (const [task, entries] of this.log) {
      let i = entries.length - 1;
      while (i >= 0 && entries[i]!.at > time) i--;
      if (i >= 0) out[task] = entries[i]!.position;
    }
    return out;
  }

  /** Forgets what asOf(t) for t >= `time` no longer needs. */
  prune(time: number): void {
    for (const entries of this.log.values()) {
      let i = entries.length - 1;
      while (i >= 0 && entries[i]!.at > time) i--;
      if (i > 0) entries.splice(0, i);
    }
  }
}
