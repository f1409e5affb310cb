/** Plugin results (kube-scheduler's framework.Status) and the typed cycle state. */

export type Code = "Success" | "Error" | "Unschedulable" | "UnschedulableAndUnresolvable" | "Wait" | "Skip" | "Pending";

/** A plugin's verdict. `reasons` are the human texts counted in FailedScheduling messages. */
export class Status {
  constructor(readonly code: Code, readonly reasons: readonly string[] = [], public plugin = "") {}
  static unschedulable(...reasons: string[]): Status { return new Status("Unschedulable", reasons); }
  static unresolvable(...reasons: string[]): Status { return new Status("UnschedulableAndUnresolvable", reasons); }
  static error(message: string): Status { return new Status("Error", [message]); }
  static skip(): Status { return new Status("Skip"); }
  get message(): string { return this.reasons.join(", "); }
  isSuccess(): boolean { return this.code === "Success"; }
  /** Unschedulable or UnschedulableAndUnresolvable. */
  isRejected(): boolean { return this.code === "Unschedulable" || this.code === "UnschedulableAndUnresolvable"; }
  withPlugin(name: string): Status { this.plugin = name; return this; }
}

/** `undefined` means success everywhere a plugin may return `Status | undefined`. */
export type MaybeStatus = Status | undefined;

/** A typed key into `CycleState`: what PreFilter/PreScore computes, Filter/Score reads. */
export class StateKey<T> {
  /** Carries T for type inference only; never set. */
  declare private readonly phantom: T;
  constructor(readonly name: string) {}
}

/** Per-cycle scratch space shared by one pod's plugins. Cloned for preemption dry runs. */
export class CycleState {
  private readonly data = new Map<StateKey<unknown>, unknown>();
  /** Plugins whose PreScore returned Skip (their Score is not run). */
  readonly skipScore = new Set<string>();
  readonly skipFilter = new Set<string>();
  write<T>(key: StateKey<T>, value: T): void { this.data.set(key, value); }
  read<T>(key: StateKey<T>): T | undefined {
    // Escape hatch: values are only ever written through a StateKey<T> with the same T.
    return this.data.get(key) as T | undefined;
  }
  /** A copy; values with a `clone()` method are cloned, others shared. */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) {
      const cl = typeof v === "object" && v !== null && "clone" in v && typeof v.clone === "function" ? (v.clone as () => unknown).call(v) : v;
      c.data.set(k, cl);
    }
    for (const s of this.skipScore) c.skipScore.add(s);
    for (const s of this.skipFilter) c.skipFilter.add(s);
    return c;
  }
}
