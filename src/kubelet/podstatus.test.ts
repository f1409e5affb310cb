import { describe, expect, it } from "vitest";
import { computePhase, generatePodStatus, type ContainerHistory, type ObservedContainer, type StatusInput } from "./podstatus.ts";
import type { ContainerState } from "../api/generated/core_v1.ts";
import type { ContainerStatus, PodObject } from "./types.ts";

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const pod = (spec: Record<string, unknown>): PodObject =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns", uid: "u1" }, spec, status: { phase: "Pending", qosClass: "BestEffort" } }) as PodObject;
const running = (id: string, attempt = 0): ObservedContainer => ({ id, state: "RUNNING", attempt, imageRef: "sha256:aa", startedAt: NOW - 5000 });
const exited = (id: string, code: number, attempt = 0): ObservedContainer =>
  ({ id, state: "EXITED", attempt, imageRef: "sha256:aa", startedAt: NOW - 5000, finishedAt: NOW - 1000, exitCode: code, reason: code === 0 ? "Completed" : "Error" });

function input(p: PodObject, containers: Record<string, ContainerHistory>, extra: Partial<StatusInput> = {}): StatusInput {
  return {
    pod: p, old: p.status ?? {}, sandboxReady: true, podIPs: ["10.88.0.5"], hostIPs: ["127.0.0.1"],
    containers: new Map(Object.entries(containers)), waiting: new Map(), runtimeName: "hollow", podIsTerminal: false, nowMs: NOW, ...extra,
  };
}
const cs = (name: string, state: ContainerState, lastState: ContainerState = {}): ContainerStatus => ({ name, state, lastState });
const T = { terminated: { exitCode: 0 } };
const F = { terminated: { exitCode: 1 } };
const R = { running: {} };
const W = { waiting: { reason: "ContainerCreating" } };

describe("computePhase", () => {
  const two = { containers: [{ name: "a" }, { name: "b" }] };
  const table: Array<[string, Record<string, unknown>, ContainerStatus[], ContainerStatus[], boolean, string]> = [
    ["nothing known yet", two, [], [], false, "Pending"],
    ["one waiting", two, [cs("a", R), cs("b", W)], [], false, "Pending"],
    ["all running", two, [cs("a", R), cs("b", R)], [], false, "Running"],
    ["one running one done", two, [cs("a", R), cs("b", T)], [], false, "Running"],
    ["all done, Always", two, [cs("a", T), cs("b", T)], [], false, "Running"],
    ["all succeeded, OnFailure", { ...two, restartPolicy: "OnFailure" }, [cs("a", T), cs("b", T)], [], false, "Succeeded"],
    ["one failed, OnFailure", { ...two, restartPolicy: "OnFailure" }, [cs("a", T), cs("b", F)], [], false, "Running"],
    ["one failed, Never", { ...two, restartPolicy: "Never" }, [cs("a", T), cs("b", F)], [], false, "Failed"],
    ["crash loop is Running", two, [cs("a", R), cs("b", { waiting: { reason: "CrashLoopBackOff" } }, F)], [], false, "Running"],
    ["terminal pod, all succeeded", two, [cs("a", T), cs("b", T)], [], true, "Succeeded"],
    ["terminal pod, one killed", two, [cs("a", T), cs("b", { terminated: { exitCode: 137 } })], [], true, "Failed"],
    ["init running", { initContainers: [{ name: "i" }], containers: [{ name: "a" }] }, [cs("a", { waiting: { reason: "PodInitializing" } })], [cs("i", R)], false, "Pending"],
    ["init failed, Never", { restartPolicy: "Never", initContainers: [{ name: "i" }], containers: [{ name: "a" }] }, [], [cs("i", F)], false, "Failed"],
    ["init failed, Always (will retry)", { initContainers: [{ name: "i" }], containers: [{ name: "a" }] }, [cs("a", W)], [cs("i", F)], false, "Pending"],
  ];
  it.each(table)("%s", (_n, spec, statuses, inits, terminal, want) => {
    expect(computePhase(pod(spec), statuses, inits, terminal)).toBe(want);
  });
});

describe("generatePodStatus", () => {
  it("a running, ready pod: conditions, IPs, container status fields", () => {
    const p = pod({ containers: [{ name: "main", image: "nginx:1.27" }] });
    const s = generatePodStatus(input(p, { main: { latest: running("c1") } }));
    expect(s.phase).toBe("Running");
    expect(s.conditions?.map((c) => [c.type, c.status])).toEqual([
      ["PodReadyToStartContainers", "True"], ["Initialized", "True"], ["Ready", "True"], ["ContainersReady", "True"], ["PodScheduled", "True"],
    ]);
    expect(s.conditions?.every((c) => c.lastTransitionTime === "2026-11-22T10:00:00Z")).toBe(true);
    expect(s).toMatchObject({ hostIP: "127.0.0.1", hostIPs: [{ ip: "127.0.0.1" }], podIP: "10.88.0.5", podIPs: [{ ip: "10.88.0.5" }], startTime: "2026-11-22T10:00:00Z", qosClass: "BestEffort" });
    expect(s.containerStatuses).toEqual([{
      name: "main", image: "nginx:1.27", imageID: "sha256:aa", containerID: "hollow://c1", ready: true, started: true, restartCount: 0,
      state: { running: { startedAt: "2026-11-22T09:59:55Z" } }, lastState: {},
    }]);
  });

  it("keeps lastTransitionTime while a condition keeps its status, and moves it on change", () => {
    const p = pod({ containers: [{ name: "main", image: "x" }] });
    const first = generatePodStatus(input(p, { main: { latest: running("c1") } }));
    const later = generatePodStatus(input(p, { main: { latest: running("c1") } }, { old: first, nowMs: NOW + 60_000 }));
    expect(later.conditions).toEqual(first.conditions);
    const unready = generatePodStatus(input(p, { main: { latest: running("c1") } }, { old: first, nowMs: NOW + 60_000, probe: () => ({ ready: false, started: true }) }));
    const ready = unready.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "ContainersNotReady", message: "containers with unready status: [main]", lastTransitionTime: "2026-11-22T10:01:00Z" });
    expect(unready.conditions?.find((c) => c.type === "PodScheduled")?.lastTransitionTime).toBe("2026-11-22T10:00:00Z");
  });

  it("a crash-looping container: waiting CrashLoopBackOff with the exit as lastState", () => {
    const p = pod({ containers: [{ name: "c", image: "hollow/exit:1" }] });
    const w = new Map([["c", { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=c pod=p_ns(u1)" }]]);
    const s = generatePodStatus(input(p, { c: { latest: exited("c2", 1, 1), previous: exited("c1", 1, 0) } }, { waiting: w }));
    const c = s.containerStatuses![0]!;
    expect(c.state).toEqual({ waiting: { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=c pod=p_ns(u1)" } });
    expect(c.lastState?.terminated).toMatchObject({ exitCode: 1, reason: "Error", containerID: "hollow://c2" });
    expect(c.restartCount).toBe(1);
    expect(s.phase).toBe("Running");
  });

  it("a succeeded pod: Ready False PodCompleted; a terminal phase is never left", () => {
    const p = pod({ restartPolicy: "Never", containers: [{ name: "c", image: "x" }] });
    const s = generatePodStatus(input(p, { c: { latest: exited("c1", 0) } }));
    expect(s.phase).toBe("Succeeded");
    expect(s.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
    expect(s.conditions?.find((c) => c.type === "Initialized")).toMatchObject({ status: "True", reason: "PodCompleted" });
    // The runtime state vanished (sandbox removed): the phase stays Succeeded.
    const again = generatePodStatus(input(p, {}, { old: s, podIPs: [], sandboxReady: false }));
    expect(again.phase).toBe("Succeeded");
    expect(again.podIP).toBe("10.88.0.5");
  });

  it("init containers: PodInitializing, incomplete message, ready after exit 0", () => {
    const p = pod({ initContainers: [{ name: "i1", image: "x" }, { name: "i2", image: "x" }], containers: [{ name: "c", image: "x" }] });
    const s = generatePodStatus(input(p, { i1: { latest: exited("a", 0) }, i2: { latest: running("b") } }));
    expect(s.phase).toBe("Pending");
    expect(s.initContainerStatuses?.map((c) => c.ready)).toEqual([true, false]);
    expect(s.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: "PodInitializing" } });
    expect(s.conditions?.find((c) => c.type === "Initialized")).toMatchObject({ status: "False", reason: "ContainersNotInitialized", message: "containers with incomplete status: [i2]" });
  });

  it("keeps conditions other components own and honours readiness gates", () => {
    const p = pod({ readinessGates: [{ conditionType: "example.com/lb" }], containers: [{ name: "c", image: "x" }] });
    const s1 = generatePodStatus(input(p, { c: { latest: running("c1") } }));
    expect(s1.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "ReadinessGatesNotReady", message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.' });
    p.status = { ...p.status, conditions: [{ type: "example.com/lb", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" }] };
    const s2 = generatePodStatus(input(p, { c: { latest: running("c1") } }));
    expect(s2.conditions?.[0]).toEqual({ type: "example.com/lb", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" });
    expect(s2.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("waiting reasons before a container exists (ErrImagePull, ContainerCreating)", () => {
    const p = pod({ containers: [{ name: "a", image: "hollow/fail-pull" }, { name: "b", image: "x" }] });
    const s = generatePodStatus(input(p, {}, { waiting: new Map([["a", { reason: "ErrImagePull", message: "no such image" }]]) }));
    expect(s.containerStatuses?.map((c) => c.state?.waiting?.reason)).toEqual(["ErrImagePull", "ContainerCreating"]);
    expect(s.phase).toBe("Pending");
    expect(s.conditions?.find((c) => c.type === "ContainersReady")?.message).toBe("containers with unready status: [a b]");
  });
});
