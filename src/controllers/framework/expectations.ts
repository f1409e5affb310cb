/**
 * Controller expectations (upstream's ControllerExpectations, simplified): after a sync issues
 * creates or deletes, the controller expects to observe them through its informer before it acts
 * on the key again, so one sync never double-creates while its own writes are in flight.
 * Expectations expire after `ttlMs` (5 min, as upstream) so a lost watch event cannot wedge a key.
 * Pure: time is passed in.
 */
export class Expectations {
  private readonly byKey = new Map<string, { adds: number; dels: Set<string>; at: number }>();

  constructor(private readonly ttlMs = 5 * 60_000) {}

  /** True when the key has nothing outstanding (or never had, or expired). */
  satisfied(key: string, nowMs: number): boolean {
    const e = this.byKey.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.dels.size === 0) return true;
    return nowMs - e.at > this.ttlMs;
  }

  /** Expect `adds` creations and the deletion of `deletes` (pod keys). Replaces earlier expectations. */
  expect(key: string, adds: number, deletes: readonly string[], nowMs: number): void {
    this.byKey.set(key, { adds, dels: new Set(deletes), at: nowMs });
  }

  creationObserved(key: string): void {
    const e = this.byKey.get(key);
    if (e) e.adds--;
  }

  /** A create that failed (or was skipped) will never be observed. */
  lowerCreations(key: string, n: number): void {
    const e = this.byKey.get(key);
    if (e) e.adds -= n;
  }

  deletionObserved(key: string, podKey: string): void {
    this.byKey.get(key)?.dels.delete(podKey);
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  /** Outstanding adds/deletes (for tests and debugging). */
  pending(key: string): { adds: number; deletes: number } | undefined {
    const e = this.byKey.get(key);
    return e ? { adds: e.adds, deletes: e.dels.size } : undefined;
  }
}
