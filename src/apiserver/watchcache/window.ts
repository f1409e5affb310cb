/**
 * The watch cache's event window: the latest events in revision order, so watches can resume
 * from a resourceVersion (and slow watchers can catch up) without a relist.
 *
 * Fixed mode (`capacity` given): the last `capacity` events. Dynamic mode (the default, like
 * kube-apiserver's watch cache): every event of the last `windowMs` (75 s) is kept while the
 * capacity allows; the capacity starts at `minCapacity` (10,000), doubles when full with the oldest
 * event younger than `windowMs`, up to `maxCapacity` (102,400), and halves again when full with
 * its older half all older than `windowMs`. Eviction happens only when full. `floor` is the
 * revision of the newest evicted event: every event with a revision above it is in the window.
 */

export interface WindowOptions {
  /** Fixed capacity (no time rule). */
  readonly capacity?: number;
  readonly minCapacity?: number;
  readonly maxCapacity?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

export const DEFAULT_MIN_WINDOW = 10_000;
export const DEFAULT_MAX_WINDOW = 100 * 1024;
export const DEFAULT_WINDOW_MS = 75_000;

export class EventWindow<E extends { readonly revision: number }> {
  private ring: Array<E | undefined>;
  private times: Float64Array;
  private start = 0;
  private len = 0;
  /** Every event with revision > floor is in the window. */
  floor = 0;
  private readonly fixed: boolean;
  private readonly min: number;
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(opts: WindowOptions = {}) {
    this.fixed = opts.capacity !== undefined;
    this.min = Math.max(1, Math.floor(opts.capacity ?? opts.minCapacity ?? DEFAULT_MIN_WINDOW));
    this.max = this.fixed ? this.min : Math.max(this.min, Math.floor(opts.maxCapacity ?? DEFAULT_MAX_WINDOW));
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.now = opts.now ?? Date.now;
    this.ring = new Array<E | undefined>(this.min);
    this.times = new Float64Array(this.min);
  }

  get capacity(): number {
    return this.ring.length;
  }

  get size(): number {
    return this.len;
  }

  /** Empties the window; every event above `floor` is (trivially) in it. */
  reset(floor: number): void {
    this.ring = new Array<E | undefined>(this.min);
    this.times = new Float64Array(this.min);
    this.start = 0;
    this.len = 0;
    this.floor = floor;
  }

  private at(i: number): E {
    return this.ring[(this.start + i) % this.ring.length] as E;
  }

  append(ev: E): void {
    const t = this.now();
    if (this.len === this.ring.length && !this.fixed) this.resize(t);
    const cap = this.ring.length;
    if (this.len === cap) {
      const oldest = this.ring[this.start];
      if (oldest) this.floor = oldest.revision;
      this.ring[this.start] = ev;
      this.times[this.start] = t;
      this.start = (this.start + 1) % cap;
    } else {
      const i = (this.start + this.len) % cap;
      this.ring[i] = ev;
      this.times[i] = t;
      this.len++;
    }
  }

  /** Full ring: grow while the oldest event is inside the time window, shrink when half is outside. */
  private resize(t: number): void {
    const cap = this.ring.length;
    const oldestTime = this.times[this.start] as number;
    if (t - oldestTime < this.windowMs) {
      if (cap < this.max) this.rebuild(Math.min(this.max, cap * 2), 0);
      return;
    }
    if (cap > this.min) {
      const half = Math.max(this.min, cap >> 1);
      const drop = cap - half;
      const lastDropped = (this.start + drop - 1) % cap;
      if (t - (this.times[lastDropped] as number) >= this.windowMs) {
        this.floor = (this.ring[lastDropped] as E).revision;
        this.rebuild(half, drop);
      }
    }
  }

  /** Copies the events from index `skip` on into a ring of `cap` slots. */
  private rebuild(cap: number, skip: number): void {
    const ring = new Array<E | undefined>(cap);
    const times = new Float64Array(cap);
    const n = this.len - skip;
    const old = this.ring.length;
    for (let i = 0; i < n; i++) {
      const j = (this.start + skip + i) % old;
      ring[i] = this.ring[j];
      times[i] = this.times[j] as number;
    }
    this.ring = ring;
    this.times = times;
    this.start = 0;
    this.len = n;
  }

  /** Events with revision > rev, oldest first; undefined when rev is below the floor (evicted). */
  after(rev: number): E[] | undefined {
    if (rev < this.floor) return undefined;
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).revision <= rev) lo = mid + 1;
      else hi = mid;
    }
    const out: E[] = [];
    for (let i = lo; i < this.len; i++) out.push(this.at(i));
    return out;
  }
}
