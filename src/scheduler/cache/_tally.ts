/**
 * Building blocks of the snapshot's incremental domain counts (`_podindex.ts`, `_spreadindex.ts`):
 *  - `DomainTally`: topology value → pod count, with a change counter and a log of the values
 *    whose count crossed zero;
 *  - `PinnedGroups`: groups indexed by one `key=value` label their selector pins, so a pod is
 *    checked only against the groups it can match, with least-recently-used eviction;
 *  - `PositiveDomainMasks`: a node bitmask of a tally's positive domains, kept in step with its
 *    flip log (what the batched filters hand to `FilterSink.rejectMask`).
 */
import type { LabelSelector } from "../../api/selectors/labels.ts";
import type { Snapshot } from "./snapshot.ts";

/**
 * Topology value → count of pods, positive entries only, plus a change counter and a log of the
 * values whose count crossed zero, so a consumer that derived something from the positive set (a
 * node bitmask) can catch up with the changes instead of rebuilding. Read-only for callers.
 */
export class DomainTally {
  readonly counts = new Map<string, number>();
  /** Bumped on every change of any count (lets consumers cache values derived from all counts). */
  changes = 0;
  /** Values whose count went from 0 to positive or back, oldest first (a value may repeat). */
  readonly flips: string[] = [];
  /** Sequence number of `flips[0]`; older entries were dropped. */
  flipBase = 0;
  /** Sequence number of the next flip: a consumer that has seen everything before it is current. */
  get version(): number { return this.flipBase + this.flips.length; }

  bump(v: string, d: number): void {
    this.changes++;
    const before = this.counts.get(v) ?? 0;
    const n = before + d;
    if (n > 0) this.counts.set(v, n); else this.counts.delete(v);
    if ((before > 0) !== (n > 0)) {
      this.flips.push(v);
      if (this.flips.length > MAX_FLIPS) { this.flips.splice(0, MAX_FLIPS / 2); this.flipBase += MAX_FLIPS / 2; }
    }
  }
}

/** Flip log entries kept per tally (consumers further behind rebuild from the counts). */
const MAX_FLIPS = 8192;

/** `key=value`, the label index's bucket name. */
export const labelKey = (k: string, v: string): string => `${k}=${v}`;

/** One `key=value` every object matching `sel` must carry, if the selector pins one. */
export function pinnedLabel(sel: LabelSelector): string | undefined {
  for (const r of sel.requirements) {
    const v = sel.requiresExactMatch(r.key);
    if (v !== undefined) return labelKey(r.key, v);
  }
  return undefined;
}

export interface PinnedGroup {
  readonly sig: string;
  /** `key=value` every pod the group can count carries (undefined: none pinned). */
  readonly pin: string | undefined;
  lastUsed: number;
}

/** Groups by signature, indexed by their pinned label; least-recently-used eviction on demand. */
export class PinnedGroups<G extends PinnedGroup> {
  private readonly bySig = new Map<string, G>();
  private readonly byPin = new Map<string, Set<G>>();
  private readonly generic = new Set<G>();
  private tick = 0;

  get size(): number { return this.bySig.size; }
  get(sig: string): G | undefined { return this.bySig.get(sig); }
  values(): IterableIterator<G> { return this.bySig.values(); }

  add(g: G): void {
    this.bySig.set(g.sig, g);
    if (g.pin === undefined) { this.generic.add(g); return; }
    let set = this.byPin.get(g.pin);
    if (!set) { set = new Set(); this.byPin.set(g.pin, set); }
    set.add(g);
  }

  delete(g: G): void {
    this.bySig.delete(g.sig);
    if (g.pin === undefined) { this.generic.delete(g); return; }
    const set = this.byPin.get(g.pin);
    set?.delete(g);
    if (set?.size === 0) this.byPin.delete(g.pin);
  }

  /** Marks `g` as used now (eviction order). */
  touch(g: G): void { g.lastUsed = ++this.tick; }

  /** Drops the least recently touched group. */
  evictOldest(): void {
    let victim: G | undefined;
    for (const g of this.bySig.values()) if (!victim || g.lastUsed < victim.lastUsed) victim = g;
    if (victim) this.delete(victim);
  }

  /** Calls `f` once for every group a pod with `labels` may match (its pins and the unpinned). */
  forLabels(labels: Readonly<Record<string, string>>, f: (g: G) => void): void {
    for (const g of this.generic) f(g);
    if (this.byPin.size === 0) return;
    for (const k in labels) {
      const set = this.byPin.get(labelKey(k, labels[k] ?? ""));
      if (set) for (const g of set) f(g);
    }
  }
}

/**
 * Node bitmasks (bit i = snapshot slot i) of the domains a tally counts positive, per tally, kept
 * in step with the tally's flip log: a cycle pays for the domains that changed since the last one,
 * not for every counted domain. Rebuilt when slots or labels changed (`labelsEpoch`) or the log
 * no longer reaches back far enough. A tally must always be asked with the same topology key.
 */
export class PositiveDomainMasks {
  private readonly byTally = new WeakMap<DomainTally, { epoch: number; version: number; mask: Uint32Array }>();

  maskFor(snap: Snapshot, slotsByValue: ReadonlyMap<string, readonly number[]>, tally: DomainTally): Uint32Array {
    let e = this.byTally.get(tally);
    if (e === undefined || e.epoch !== snap.labelsEpoch || e.version < tally.flipBase) {
      const mask = new Uint32Array((snap.size + 31) >>> 5);
      for (const v of tally.counts.keys()) for (const i of slotsByValue.get(v) ?? []) mask[i >>> 5]! |= 1 << (i & 31);
      e = { epoch: snap.labelsEpoch, version: tally.version, mask };
      this.byTally.set(tally, e);
      return mask;
    }
    const { mask } = e;
    for (let k = e.version - tally.flipBase; k < tally.flips.length; k++) {
      const v = tally.flips[k]!;
      const on = tally.counts.has(v);
      for (const i of slotsByValue.get(v) ?? []) {
        if (on) mask[i >>> 5]! |= 1 << (i & 31); else mask[i >>> 5]! &= ~(1 << (i & 31));
      }
    }
    e.version = tally.version;
    return mask;
  }
}
