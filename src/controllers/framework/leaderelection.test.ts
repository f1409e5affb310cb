import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { decideLease, LeaderElector, microTime, releasedLease, type LeaderElectionConfig } from "./leaderelection.ts";
import { RecordingWriter } from "./recording.ts";
import { LEASES } from "./resources.ts";

const cfg = (identity: string): LeaderElectionConfig => ({ namespace: "kube-system", name: "kube-controller-manager", identity, leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
const T = Date.parse("2024-01-01T00:00:00Z");
const held = (holder: string, transitions = 0): KubeObject => ({
  apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "kube-controller-manager", namespace: "kube-system", resourceVersion: "5" },
  spec: { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: microTime(T), renewTime: microTime(T), leaseTransitions: transitions },
});

describe("decideLease", () => {
  it("creates the lease when absent", () => {
    const { decision } = decideLease(undefined, cfg("a"), T, { record: "", atMs: 0 }, false);
    expect(decision).toMatchObject({ action: "create", lease: { spec: { holderIdentity: "a", leaseDurationSeconds: 15, leaseTransitions: 0, renewTime: "2024-01-01T00:00:00.000000Z" } } });
  });
  it("waits while another holder's record changed less than leaseDuration ago (by our clock)", () => {
    const first = decideLease(held("b"), cfg("a"), T, { record: "", atMs: 0 }, false);
    expect(first.decision).toEqual({ action: "wait", holder: "b" });
    const later = decideLease(held("b"), cfg("a"), T + 14_000, first.observed, false);
    expect(later.decision.action).toBe("wait");
    const expired = decideLease(held("b"), cfg("a"), T + 15_001, first.observed, false);
    expect(expired.decision).toMatchObject({ action: "update", lease: { spec: { holderIdentity: "a", leaseTransitions: 1 } } });
  });
  it("a renewal keeps acquireTime and transitions", () => {
    const { decision } = decideLease(held("a", 4), cfg("a"), T + 2000, { record: "", atMs: 0 }, true);
    expect(decision).toMatchObject({ action: "update", lease: { spec: { holderIdentity: "a", acquireTime: microTime(T), renewTime: microTime(T + 2000), leaseTransitions: 4 } } });
  });
  it("a released lease (no holder) is taken at once", () => {
    const rel = releasedLease(held("b", 1), T);
    expect(rel["spec"]).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    expect(decideLease(rel, cfg("a"), T, { record: "", atMs: 0 }, false).decision.action).toBe("update");
  });
});

describe("LeaderElector over a writer", () => {
  it("of two candidates only one acquires; the other takes over after release", async () => {
    const w = new RecordingWriter();
    let now = T;
    const a = new LeaderElector(w, cfg("a"), { onStartedLeading: () => {}, onStoppedLeading: () => {} }, { now: () => now });
    const b = new LeaderElector(w, cfg("b"), { onStartedLeading: () => {}, onStoppedLeading: () => {} }, { now: () => now });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    now += 5_000;
    expect(await a.tryAcquireOrRenew()).toBe(true); // renew
    expect(await b.tryAcquireOrRenew()).toBe(false); // record changed: b's observation restarts
    now += 16_000; // a stopped renewing
    expect(await b.tryAcquireOrRenew()).toBe(true);
    const lease = w.stored<KubeObject>(LEASES, "kube-system", "kube-controller-manager");
    expect(lease?.["spec"]).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
  });

  it("a stale write loses with 409 and is not leadership", async () => {
    const w = new RecordingWriter();
    w.seed(LEASES, releasedLease(held("x"), T));
    const a = new LeaderElector(w, cfg("a"), { onStartedLeading: () => {}, onStoppedLeading: () => {} }, { now: () => T });
    // Someone else updates between our read and our write.
    let first = true;
    w.reactors.push((c) => {
      if (c.verb === "update" && first) {
        first = false;
        w.seed(LEASES, { ...held("z"), metadata: { ...held("z").metadata, resourceVersion: "999" } });
      }
      return undefined;
    });
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });
});
