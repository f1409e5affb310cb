import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.ts";
import { ActionType, type ClusterEventWithHint, Events } from "../framework/events.ts";
import { Status } from "../framework/status.ts";
import { newPrioritySort } from "../plugins/queuesort/prioritysort.ts";
import { makePod, type PodSpecLite } from "../testing.ts";
import { newPodInfo } from "../types.ts";
import { SchedulingQueue } from "./scheduling_queue.ts";

function setup(events: Record<string, ClusterEventWithHint[]> = {}) {
  const clock = new FakeClock(0);
  const sort = newPrioritySort();
  const q = new SchedulingQueue({
    clock, less: (a, b) => sort.less(a, b),
    preEnqueue: (p) => (p.schedulingGates.length ? new Status("UnschedulableAndUnresolvable", ["gated"], "SchedulingGates") : undefined),
    eventsOf: (pl) => events[pl],
  });
  const info = (name: string, s: PodSpecLite = {}) => newPodInfo(makePod(name, s), []);
  return { clock, q, info };
}

describe("SchedulingQueue", () => {
  it("pops by priority, then arrival", () => {
    const { q, info } = setup();
    q.add(info("a", { priority: 1 }));
    q.add(info("b", { priority: 5 }));
    q.add(info("c", { priority: 1 }));
    expect([q.pop(), q.pop(), q.pop(), q.pop()].map((x) => x?.info.name)).toEqual(["b", "a", "c", undefined]);
  });
  it("backoff doubles from 1 s to the 10 s cap", () => {
    const { q } = setup();
    expect([1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration(a))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });
  it("nextBackoffExpiry / flushBackoffCompleted: the earliest expiry, and only finished backoffs move", () => {
    const { q, info, clock } = setup();
    expect(q.nextBackoffExpiry()).toBeUndefined();
    expect(q.flushBackoffCompleted()).toBe(0);
    q.add(info("a"));
    q.add(info("b"));
    const a = q.pop(), b = q.pop();
    if (!a || !b) throw new Error("no pod");
    q.addUnschedulable(a, q.schedulingCycle); // error-style failure (no rejecting plugins): backoff from t=0
    clock.step(300);
    q.addUnschedulable(b, q.schedulingCycle); // backoff from t=300
    expect(q.nextBackoffExpiry()).toBe(1000);
    clock.step(699);
    expect(q.flushBackoffCompleted()).toBe(0);
    clock.step(1);
    expect(q.flushBackoffCompleted()).toBe(1);
    expect(q.where("default/a")).toBe("active");
    expect(q.where("default/b")).toBe("backoff");
    expect(q.nextBackoffExpiry()).toBe(1300);
    clock.step(300);
    q.flush();
    expect(q.where("default/b")).toBe("active");
    expect(q.nextBackoffExpiry()).toBeUndefined();
  });
  it("failed pods without rejecting plugins back off, then return to activeQ", () => {
    const { q, info, clock } = setup();
    q.add(info("a"));
    const p = q.pop();
    if (!p) throw new Error("no pod");
    q.addUnschedulable(p, q.schedulingCycle);
    expect(q.where("default/a")).toBe("backoff");
    clock.step(999); q.flush();
    expect(q.where("default/a")).toBe("backoff");
    clock.step(1); q.flush();
    expect(q.where("default/a")).toBe("active");
  });
  it("unschedulable pods move only on events their plugins' hints accept", () => {
    const { q, info, clock } = setup({
      NodeAffinity: [{ resource: "Node", actionType: ActionType.Add, hint: (_p, _o, n) => ((n as { ok?: boolean }).ok ? "Queue" : "QueueSkip") }],
    });
    q.add(info("a"));
    const p = q.pop();
    if (!p) throw new Error("no pod");
    p.unschedulablePlugins = new Set(["NodeAffinity"]);
    q.addUnschedulable(p, q.schedulingCycle);
    expect(q.where("default/a")).toBe("unschedulable");
    expect(q.onEvent(Events.AssignedPodDelete, undefined, {})).toBe(0);
    expect(q.onEvent(Events.NodeAdd, undefined, { ok: false })).toBe(0);
    clock.step(5000);
    expect(q.onEvent(Events.NodeAdd, undefined, { ok: true })).toBe(1);
    expect(q.where("default/a")).toBe("active");
  });
  it("an event during the pod's cycle sends it to backoff instead of the pool", () => {
    const { q, info } = setup({ NodeResourcesFit: [] });
    q.add(info("a"));
    const p = q.pop();
    if (!p) throw new Error("no pod");
    const cycle = q.schedulingCycle;
    q.onEvent(Events.NodeAdd, undefined, {});
    p.unschedulablePlugins = new Set(["NodeResourcesFit"]);
    q.addUnschedulable(p, cycle);
    expect(q.where("default/a")).toBe("backoff");
  });
  it("unschedulable pods are flushed after 5 minutes", () => {
    const { q, info, clock } = setup({ X: [] });
    q.add(info("a"));
    const p = q.pop();
    if (!p) throw new Error("no pod");
    p.unschedulablePlugins = new Set(["X"]);
    q.addUnschedulable(p, q.schedulingCycle);
    clock.step(300_000); q.flush();
    expect(q.where("default/a")).toBe("unschedulable");
    clock.step(1); q.flush();
    expect(q.where("default/a")).toBe("active");
  });
  it("gated pods wait until an update removes the gates", () => {
    const { q, info } = setup();
    q.add(info("g", { gates: ["x"] }));
    expect(q.stats()).toEqual({ active: 0, backoff: 0, unschedulable: 0, gated: 1 });
    expect(q.onEvent(Events.NodeAdd, undefined, {})).toBe(0);
    q.update(info("g"));
    expect(q.where("default/g")).toBe("active");
  });
  it("tracks nominated pods per node, highest priority first", () => {
    const { q, info } = setup();
    q.addNominated(info("a", { priority: 1 }), "n1");
    q.addNominated(info("b", { priority: 9 }), "n1");
    expect(q.nominatedPodsForNode("n1").map((p) => p.name)).toEqual(["b", "a"]);
    q.addNominated(info("a", { priority: 1 }), "n2");
    expect(q.nominatedPodsForNode("n1").map((p) => p.name)).toEqual(["b"]);
    q.delete("default/b");
    expect(q.nominatedPodsForNode("n1")).toEqual([]);
  });

  it("replaces a node's nominated list on every change and logs the node", () => {
    const { q, info } = setup();
    const start = q.nominationChanges(0).next;
    q.addNominated(info("a", { priority: 1 }), "n1");
    const first = q.nominatedPodsForNode("n1");
    q.addNominated(info("b", { priority: 9 }), "n1");
    expect(q.nominatedPodsForNode("n1")).not.toBe(first); // a new array: holders see the change by identity
    expect(first.map((p) => p.name)).toEqual(["a"]); // the old one is left as it was
    q.addNominated(info("a", { priority: 1 }), "n2"); // moves: n1 loses a, n2 gains it
    const c = q.nominationChanges(start);
    expect(c.nodes).toEqual(["n1", "n1", "n1", "n2"]);
    expect(q.nominationChanges(c.next).nodes).toEqual([]);
    expect([...q.nominations()].map(([n, l]) => [n, l.map((p) => p.name)])).toEqual([["n1", ["b"]], ["n2", ["a"]]]);
    // A reader too far behind is told to read the whole table.
    for (let i = 0; i < 5000; i++) q.addNominated(info(`p${i % 7}`), `n${i % 3}`);
    expect(q.nominationChanges(c.next).nodes).toBeUndefined();
    const now = q.nominationChanges(0).next;
    expect(q.nominationChanges(now - 10).nodes).toHaveLength(10);
    expect(q.nominationChanges(now + 1).nodes).toBeUndefined();
  });
});

describe("SchedulingQueue updates", () => {
  it("status-only updates leave an unschedulable pod in the pool; spec changes move it", () => {
    const { q, info } = setup({ X: [] });
    q.add(info("a"));
    const p = q.pop();
    if (!p) throw new Error("no pod");
    p.unschedulablePlugins = new Set(["X"]);
    q.addUnschedulable(p, q.schedulingCycle);
    q.update(info("a", { nominatedNodeName: "n1" }), false);
    expect(q.where("default/a")).toBe("unschedulable");
    expect(q.nominatedNode("default/a")).toBe("n1");
    q.update(info("a", { labels: { x: "y" } }), true);
    expect(q.where("default/a")).toBe("backoff");
  });
});
