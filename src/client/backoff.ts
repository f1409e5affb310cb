/**
 * Exponential backoff with jitter, and an abortable sleep. Pure except `sleep`.
 */

export interface BackoffOptions {
  /** Delay of the first retry (default 200 ms). */
  readonly initialMs?: number;
  /** Cap (default 30 s). */
  readonly maxMs?: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /** Fraction of the delay added at random, 0..1 (default 0.2), so clients do not retry in lockstep. */
  readonly jitter?: number;
}

/** The delay before retry number `attempt` (0-based); `random` returns [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialMs ?? 200;
  const max = opts.maxMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const jitter = opts.jitter ?? 0.2;
  const base = Math.min(max, initial * factor ** Math.max(0, Math.min(attempt, 64)));
  return Math.min(max, base * (1 + jitter * random()));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). The timer does not hold the process open. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    t.unref?.();
    signal?.addEventListener("abort", done, { once: true });
  });
}
