/**
 * Request deadlines without a timer (or an `AbortSignal.timeout`) per request: pending deadlines
 * sit in a set, and one unref'd timer is armed for the earliest of them. Requests almost always
 * finish long before their deadline and are removed in O(1); with a fixed timeout every new
 * deadline is later than the armed one, so adding one does not touch the timer either. When the
 * timer fires it expires what is due and re-arms for the earliest left.
 *
 * Times are `performance.now()` milliseconds.
 */

/** One pending deadline; `expire` runs at most once, at or after `at`, unless removed first. */
export interface Deadline {
  readonly at: number;
  expire(): void;
}

export class DeadlineSet {
  private readonly pending = new Set<Deadline>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  private armedAt = Infinity;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get size(): number {
    return this.pending.size;
  }

  /** Adds `d`; a deadline already due expires on the next timer turn (not synchronously). */
  add(d: Deadline): void {
    this.pending.add(d);
    if (d.at < this.armedAt) this.arm(d.at);
  }

  /** Removes `d` (no-op when it expired or was removed). */
  delete(d: Deadline): void {
    this.pending.delete(d);
    if (this.pending.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.armedAt = Infinity;
    }
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(at - this.now())));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    const due: Deadline[] = [];
    let next = Infinity;
    for (const d of this.pending) {
      if (d.at <= now) due.push(d);
      else if (d.at < next) next = d.at;
    }
    for (const d of due) this.pending.delete(d);
    if (next !== Infinity) this.arm(next);
    for (const d of due) {
      try {
        d.expire();
      } catch {
        // an expiry handler's failure concerns its own request only
      }
    }
  }
}

/** The error a request fails with at its deadline (what `AbortSignal.timeout` aborts with). */
export function timeoutError(): Error {
  return new DOMException("The operation was aborted due to timeout", "TimeoutError");
}
