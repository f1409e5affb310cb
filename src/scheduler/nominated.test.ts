import { describe, expect, it } from "vitest";
import type { Pod } from "../api/generated/core_v1.ts";
import { FakeClock } from "./clock.ts";
import { createTwinKernel } from "./kernel/mod.ts";
import { Scheduler, type ScheduleResult } from "./scheduler.ts";
import { makeNode, makePod, MemoryBinder, MemoryPreemptor, MemoryRecorder, MemoryStatusWriter, type PodSpecLite } from "./testing.ts";

function setup(mode: "incremental" | "per-cycle" = "incremental") {
  const clock = new FakeClock(0);
  const sched = new Scheduler({
    kernel: createTwinKernel(), binder: new MemoryBinder(), clock, recorder: new MemoryRecorder(), statusWriter: new MemoryStatusWriter(),
    preemptor: new MemoryPreemptor(), nominatedOverlay: mode,
  });
  return { clock, sched };
}

/** A pod held out of the active queue by a scheduling gate, nominated to `node`. */
function heldNominated(name: string, node: string, priority: number, cpu: string): Pod {
  return makePod(name, { priority, requests: { cpu }, nominatedNodeName: node, gates: ["hold"] });
}

function outcome(r: ScheduleResult | undefined): string {
  if (!r) return "none";
  if (r.kind === "scheduled") return `scheduled ${r.node}`;
  return r.kind;
}

describe("nominated pods overlay", () => {
  it("a lower-priority pod does not get the room a higher nominated pod holds", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1", { cpu: "2" }));
    sched.addPod(heldNominated("h", "n1", 10, "2"));
    sched.addPod(makePod("low", { priority: 5, requests: { cpu: "1" } }));
    const r = sched.scheduleOne();
    expect(r?.kind === "unschedulable" && r.message.startsWith("0/1 nodes are available: 1 Insufficient cpu.")).toBe(true);
  });
  it("equal priority counts too; a higher-priority pod ignores the nomination", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1", { cpu: "2" }));
    sched.addPod(heldNominated("h", "n1", 10, "2"));
    sched.addPod(makePod("eq", { priority: 10, requests: { cpu: "1" }, preemptNever: true }));
    expect(outcome(sched.scheduleOne())).toBe("unschedulable");
    sched.addPod(makePod("top", { priority: 20, requests: { cpu: "2" } }));
    expect(outcome(sched.scheduleOne())).toBe("scheduled n1");
  });
  it("the nominated pod itself fits where it is nominated", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1", { cpu: "2" }));
    const h = heldNominated("h", "n1", 10, "2");
    sched.addPod(h);
    const released: Pod = { ...h, spec: { ...h.spec, schedulingGates: [] } };
    sched.updatePod(h, released);
    expect(outcome(sched.scheduleOne())).toBe("scheduled n1");
  });
  it("follows node rewrites, node removal and re-adding, and cleared nominations", () => {
    const { sched } = setup();
    const n1 = makeNode("n1", { cpu: "2" });
    sched.addNode(n1);
    const h = heldNominated("h", "n1", 10, "2");
    sched.addPod(h);
    const lowSpec: PodSpecLite = { priority: 5, requests: { cpu: "1" }, preemptNever: true };
    sched.addPod(makePod("a", lowSpec));
    expect(outcome(sched.scheduleOne())).toBe("unschedulable");
    // node rewritten in the kernel (label change): still held
    const n1b = makeNode("n1", { cpu: "2", labels: { x: "y" } });
    sched.updateNode(n1, n1b);
    sched.addPod(makePod("b", lowSpec));
    expect(outcome(sched.scheduleOne())).toBe("unschedulable");
    // node removed and added back (another node took its slot meanwhile): still held
    sched.addNode(makeNode("n0", { cpu: "1", labels: { other: "1" } }));
    sched.deleteNode(n1b);
    sched.addPod(makePod("c", { ...lowSpec, nodeSelector: { x: "y" } }));
    expect(outcome(sched.scheduleOne())).toBe("unschedulable");
    sched.addNode(n1b);
    sched.addPod(makePod("d", { ...lowSpec, nodeSelector: { x: "y" } }));
    expect(outcome(sched.scheduleOne())).toBe("unschedulable");
    // nomination cleared (pod deleted): the room is free
    sched.deletePod(h);
    sched.addPod(makePod("e", { ...lowSpec, nodeSelector: { x: "y" } }));
    expect(outcome(sched.scheduleOne())).toBe("scheduled n1");
  });
  it("a nominated pod bound elsewhere stops holding room", () => {
    const { sched } = setup();
    sched.addNode(makeNode("n1", { cpu: "2" }));
    sched.addNode(makeNode("n2", { cpu: "4" }));
    const h = heldNominated("h", "n1", 10, "2");
    sched.addPod(h);
    const spec: PodSpecLite = { priority: 5, requests: { cpu: "1" }, preemptNever: true, nodeSelector: { "kubernetes.io/hostname": "n1" } };
    sched.addPod(makePod("a", spec));
    expect(outcome(sched.scheduleOne())).toBe("unschedulable");
    sched.updatePod(h, { ...h, spec: { ...h.spec, nodeName: "n2" } });
    sched.addPod(makePod("b", spec));
    expect(outcome(sched.scheduleOne())).toBe("scheduled n1");
  });

  it("schedules random clusters with preemption exactly like the per-cycle reference", () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const deadline = Date.now() + 20_000;
    let compared = 0, preemptions = 0;
    for (let cluster = 0; cluster < 40 && Date.now() < deadline; cluster++) {
      const a = setup("incremental"), b = setup("per-cycle");
      const both = (f: (s: Scheduler) => void): void => { f(a.sched); f(b.sched); };
      const nodes = new Map<string, ReturnType<typeof makeNode>>();
      const pods = new Map<string, Pod>();
      const nodeCount = 2 + rnd(6);
      for (let i = 0; i < nodeCount; i++) {
        const n = makeNode(`n${i}`, { cpu: String(2 + rnd(4)), pods: String(3 + rnd(4)), labels: { zone: `z${rnd(2)}` } });
        nodes.set(n.metadata?.name ?? "", n);
        both((s) => s.addNode(n));
      }
      let podSeq = 0;
      for (let step = 0; step < 60; step++) {
        const op = rnd(10);
        if (op < 4) {
          const name = `p${podSeq++}`;
          const p = makePod(name, {
            priority: rnd(4) * 10, requests: { cpu: `${(1 + rnd(6)) * 250}m`, memory: `${1 + rnd(3)}Gi` },
            startTime: `2026-01-01T00:00:${String(rnd(60)).padStart(2, "0")}Z`,
            ...(rnd(5) === 0 ? { nodeSelector: { zone: `z${rnd(2)}` } } : {}),
          });
          pods.set(name, p);
          both((s) => s.addPod(p));
        } else if (op < 8) {
          const ra = a.sched.scheduleOne(), rb = b.sched.scheduleOne();
          expect(summary(ra)).toEqual(summary(rb));
          compared++;
          if (ra?.kind === "scheduled" && rb?.kind === "scheduled") {
            const old = pods.get(ra.pod.name);
            if (old) {
              const bound: Pod = { ...old, spec: { ...old.spec, nodeName: ra.node } };
              pods.set(ra.pod.name, bound);
              both((s) => s.updatePod(old, bound));
            }
          } else if (ra?.kind === "unschedulable" && ra.victims.length > 0) {
            preemptions++;
            for (const v of ra.victims) {
              const vp = pods.get(v.name);
              if (!vp) continue;
              pods.delete(v.name);
              both((s) => s.deletePod(vp));
            }
          }
        } else if (op === 8) {
          // advance time so backoff ends; flush moves pods back
          a.clock.step(11_000); b.clock.step(11_000);
          both((s) => s.flush());
        } else {
          const names = [...nodes.keys()];
          const name = names[rnd(names.length)];
          const n = name === undefined ? undefined : nodes.get(name);
          if (!n || !name) continue;
          if (rnd(3) === 0) {
            both((s) => s.deleteNode(n));
            nodes.delete(name);
            const back = makeNode(name, { cpu: String(2 + rnd(4)), labels: { zone: `z${rnd(2)}` } });
            nodes.set(name, back);
            both((s) => s.addNode(back));
          } else {
            const upd = makeNode(name, { cpu: String(2 + rnd(4)), labels: { zone: `z${rnd(2)}` } });
            both((s) => s.updateNode(n, upd));
            nodes.set(name, upd);
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(200);
    expect(preemptions).toBeGreaterThan(5);
  });
});

function summary(r: ScheduleResult | undefined): unknown {
  if (!r) return undefined;
  switch (r.kind) {
    case "scheduled": return [r.kind, r.pod.key, r.node, r.feasible];
    case "unschedulable": return [r.kind, r.pod.key, r.message, r.nominatedNodeName, r.victims.map((v) => v.key)];
    default: return [r.kind, r.pod.key];
  }
}
