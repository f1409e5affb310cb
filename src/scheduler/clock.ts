/** Time as the scheduler's pure core sees it: injected, so tests and scripts step it by hand. */
export interface Clock {
  /** Milliseconds (monotonic enough for backoff and expiry arithmetic). */
  now(): number;
}

/** The real clock (`performance.now`-free on purpose: Date is what event timestamps use). */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private t = 0) {}
  now(): number { return this.t; }
  /** Advances time; throws RangeError for a negative step. */
  step(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`clock step must be >= 0, got ${ms}`);
    this.t += ms;
  }
}
