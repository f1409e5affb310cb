/**
 * Time for runtimes: a `Clock` gives the current time and one-shot timers. Production code uses
 * `systemClock`; tests use `FakeClock`, whose time moves only when the test calls `advance`, so
 * latency, crash loops and grace periods run instantly and deterministically.
 */

/** An opaque timer handle from `Clock.setTimeout`. */
export type TimerHandle = { readonly __timer: true } | object;

export interface Clock {
  /** Current time in milliseconds since the Unix epoch (may be fractional on a fake clock). */
  now(): number;
  /** Calls `fn` once, `ms` (>= 0) milliseconds from now, unless cleared first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; clearing a fired or cleared timer does nothing. */
  clearTimeout(handle: TimerHandle): void;
}

/** Node's largest setTimeout delay; longer waits are re-armed. */
const MAX_DELAY_MS = 2_147_483_647;

class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_DELAY_MS));
    // Runtime timers must never keep a process alive on their own (a CLI exits when its work is done).
    t.unref?.();
    return t;
  }
  clearTimeout(handle: TimerHandle): void {
    // The handle came from our own setTimeout above.
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}

/** The wall clock with unref'd Node timers. */
export const systemClock: Clock = new SystemClock();

interface FakeTimer {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

/**
 * A manual clock. `advance(ms)` moves time forward, firing due timers in (time, creation) order
 * with `now()` equal to each timer's due time while it runs; timers set by a firing timer that
 * fall due within the advanced window fire in the same call.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  /** Starts at `startMs` (default 2026-11-22T00:00:00Z). */
  constructor(startMs = Date.UTC(2026, 10, 22)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (!(ms >= 0)) ms = 0;
    const t: FakeTimer = { at: this.#now + ms, seq: this.#seq++, fn };
    this.#timers.push(t);
    return t;
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as FakeTimer; // Handles only ever come from setTimeout above.
    t.fn = null;
    const i = this.#timers.indexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Number of armed timers (what a test asserts to prove "one timer for thousands of containers"). */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms` (>= 0), firing every timer due by the new time. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.#now + ms;
    // Bounded: every iteration removes one timer; a timer re-arming itself at 0 ms forever is a bug we surface.
    for (let guard = 0; ; guard++) {
      if (guard > 10_000_000) throw new Error("FakeClock.advance: timers keep re-arming at the same instant");
      let best = -1;
      for (let i = 0; i < this.#timers.length; i++) {
        const t = this.#timers[i]!;
        if (t.at > target) continue;
        const b = best < 0 ? undefined : this.#timers[best]!;
        if (b === undefined || t.at < b.at || (t.at === b.at && t.seq < b.seq)) best = i;
      }
      if (best < 0) break;
      const t = this.#timers[best]!;
      this.#timers.splice(best, 1);
      this.#now = Math.max(this.#now, t.at);
      const fn = t.fn;
      t.fn = null;
      fn?.();
    }
    this.#now = target;
  }

  /** Moves time to the absolute instant `atMs` (not backwards). */
  advanceTo(atMs: number): void {
    this.advance(Math.max(0, atMs - this.#now));
  }
}
