/**
 * PodTopologySpread reading the snapshot's shared spread counts (default) must schedule exactly as
 * the per-cycle recount (`incremental: false`): random clusters and event sequences (pods bound,
 * deleted, relabelled, terminating; nodes relabelled, added, missing the zone key; taints; node
 * affinity; minDomains; matchLabelKeys; ScheduleAnyway and Service-defaulted constraints; preemption,
 * whose dry runs adjust the counts) fed to two
 * schedulers side by side, every outcome and FailedScheduling message compared.
 */
import { describe, expect, it } from "vitest";
import { rng } from "../../kernel/_testing.ts";
import type { Node, Pod, TopologySpreadConstraint } from "../../../api/generated/core_v1.ts";
import { labelSelectorFromObject } from "../../../api/selectors/labels.ts";
import { FakeClock } from "../../clock.ts";
import { createTwinKernel } from "../../kernel/mod.ts";
import { Scheduler, type ScheduleResult } from "../../scheduler.ts";
import { makeNode, makePod, MemoryBinder, MemoryPreemptor, MemoryRecorder, MemoryStatusWriter } from "../../testing.ts";
import { inTreeRegistry } from "../registry.ts";
import { NAME, newPodTopologySpread } from "./podtopologyspread.ts";


function scheduler(incremental: boolean): Scheduler {
  const registry = new Map(inTreeRegistry);
  registry.set(NAME, (args, ctx) => newPodTopologySpread(args, ctx, { incremental }));
  return new Scheduler({
    kernel: createTwinKernel(), binder: new MemoryBinder(), clock: new FakeClock(0), recorder: new MemoryRecorder(),
    statusWriter: new MemoryStatusWriter(), preemptor: new MemoryPreemptor(), registry, seed: 7,
  });
}

function outcome(r: ScheduleResult | undefined): string {
  if (!r) return "none";
  if (r.kind === "scheduled") return `scheduled ${r.pod.key} ${r.node}`;
  if (r.kind === "unschedulable") return `unschedulable ${r.pod.key} ${r.message} nominated=${r.nominatedNodeName ?? ""} victims=${r.victims.map((v) => v.key).sort().join(",")}`;
  return `${r.kind} ${r.pod.key}`;
}

describe("PodTopologySpread incremental counts", () => {
  it("schedule exactly as the per-cycle recount on random clusters", () => {
    let scheduledCycles = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const a = scheduler(true), b = scheduler(false);
      const both = (f: (s: Scheduler) => void): void => { f(a); f(b); };
      // A third of the clusters have nodes without a zone (the per-cycle path must be chosen then).
      const missingZone = seed % 3 === 0 ? 0.15 : 0;
      const zones = ["z0", "z1", "z2", "z3"].slice(0, 2 + (seed % 3));
      const nodes = new Map<string, Node>();
      let nextNode = 0, nextPod = 0;
      const newNode = (): Node => {
        const name = `n${nextNode++}`;
        return makeNode(name, {
          cpu: "2", labels: { ...(r() < missingZone ? {} : { zone: pick(zones) }), ...(r() < 0.3 ? { disk: "ssd" } : {}) },
          ...(r() < 0.1 ? { taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }] } : {}),
        });
      };
      for (let i = 0, n = 6 + Math.floor(r() * 10); i < n; i++) { const nd = newNode(); nodes.set(nd.metadata!.name!, nd); both((s) => s.addNode(nd)); }
      const bound = new Map<string, Pod>();
      const apps = ["web", "db"];
      // Pods without constraints of their own get the system default (ScheduleAnyway) ones when a
      // Service selects them.
      if (seed % 2 === 0) both((s) => s.setWorkloadSelector("Service", "a", "web", labelSelectorFromObject({ matchLabels: { app: "web" } })));
      const podOf = (nodeName?: string): Pod => {
        const constraints: TopologySpreadConstraint[] = [];
        for (let k = 0, n = r() < 0.25 ? 2 : 1; k < n; k++) {
          const c: TopologySpreadConstraint = {
            maxSkew: 1 + Math.floor(r() * 3), topologyKey: k === 0 && r() < 0.7 ? "zone" : "kubernetes.io/hostname",
            whenUnsatisfiable: r() < 0.75 ? "DoNotSchedule" : "ScheduleAnyway",
            labelSelector: r() < 0.8 ? { matchLabels: { app: pick(apps) } } : { matchExpressions: [{ key: "app", operator: "Exists" }] },
          };
          if (r() < 0.15) c.minDomains = 1 + Math.floor(r() * 5);
          if (r() < 0.1) c.matchLabelKeys = ["tier"];
          if (r() < 0.1) c.nodeTaintsPolicy = "Honor";
          if (r() < 0.1) c.nodeAffinityPolicy = "Ignore";
          constraints.push(c);
        }
        return makePod(`p${nextPod++}`, {
          namespace: r() < 0.8 ? "a" : "b", priority: Math.floor(r() * 3), requests: { cpu: pick(["200m", "500m", "1"]) },
          labels: { ...(r() < 0.9 ? { app: pick(apps) } : {}), ...(r() < 0.3 ? { tier: pick(["x", "y"]) } : {}) },
          ...(nodeName ? { nodeName } : {}),
          ...(r() < 0.1 ? { nodeSelector: { disk: "ssd" } } : {}),
          ...(!nodeName && r() < 0.7 ? { spec: { topologySpreadConstraints: constraints } } : {}),
        });
      };
      // Existing pods.
      for (let i = 0, n = Math.floor(r() * 20); i < n; i++) {
        const p = podOf(pick([...nodes.keys()]));
        bound.set(`${p.metadata!.namespace}/${p.metadata!.name}`, p);
        both((s) => s.addPod(p));
      }
      for (let step = 0; step < 60; step++) {
        const x = r();
        if (x < 0.6) {
          const p = podOf();
          both((s) => s.addPod(p));
        } else if (x < 0.7 && bound.size > 0) {
          const [k, p] = pick([...bound]);
          bound.delete(k);
          both((s) => s.deletePod(p));
        } else if (x < 0.78 && bound.size > 0) {
          const [k, p] = pick([...bound]);
          const upd: Pod = r() < 0.6
            ? { ...p, metadata: { ...p.metadata, labels: { app: pick(apps) } } }
            : { ...p, metadata: { ...p.metadata, deletionTimestamp: "2026-01-01T00:00:01Z" } };
          bound.set(k, upd);
          both((s) => s.updatePod(p, upd));
        } else if (x < 0.86) {
          const name = pick([...nodes.keys()]);
          const old = nodes.get(name)!;
          const upd: Node = { ...old, metadata: { ...old.metadata, labels: { ...old.metadata!.labels, ...(r() < missingZone ? {} : { zone: pick(zones) }) } } };
          nodes.set(name, upd);
          both((s) => s.updateNode(old, upd));
        } else if (x < 0.9) {
          const nd = newNode();
          nodes.set(nd.metadata!.name!, nd);
          both((s) => s.addNode(nd));
        }
        for (let k = 0; k < 3; k++) {
          const ra = a.scheduleOne(), rb = b.scheduleOne();
          expect(outcome(ra), `seed ${seed} step ${step}`).toBe(outcome(rb));
          if (!ra || !rb) break;
          if (ra.kind === "scheduled" && rb.kind === "scheduled") {
            scheduledCycles++;
            const p = ra.pod.pod;
            const done: Pod = { ...p, spec: { ...p.spec!, nodeName: ra.node } };
            for (const [s, res] of [[a, ra], [b, rb]] as const) { s.cache.finishBinding(res.pod.key); s.queue.done(res.pod.key); s.updatePod(p, done); }
            bound.set(ra.pod.key, done);
          } else if (ra.kind === "unschedulable") {
            for (const v of ra.victims) {
              const vp = bound.get(v.key);
              if (vp) { bound.delete(v.key); both((s) => s.deletePod(vp)); }
            }
          }
        }
      }
    }
    expect(scheduledCycles).toBeGreaterThan(200);
  });

  it("hostname spread over > 64 counted domains (the kept-in-step mask) matches the recount", () => {
    for (const seed of [101, 102, 103]) {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const a = scheduler(true), b = scheduler(false);
      const both = (f: (s: Scheduler) => void): void => { f(a); f(b); };
      const nodes: Node[] = [];
      for (let i = 0; i < 120; i++) { const nd = makeNode(`n${i}`, { cpu: "4", labels: { zone: `z${i % 4}` } }); nodes.push(nd); both((s) => s.addNode(nd)); }
      const bound: Pod[] = [];
      let next = 0;
      for (let step = 0; step < 400; step++) {
        const x = r();
        if (x < 0.8) {
          const maxSkew = r() < 0.8 ? 1 : 2;
          const p = makePod(`p${next++}`, { requests: { cpu: "100m" }, labels: { app: "h" }, spec: { topologySpreadConstraints: [{ maxSkew, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "h" } } }] } });
          both((s) => s.addPod(p));
        } else if (x < 0.95 && bound.length > 0) {
          const p = bound.splice(Math.floor(r() * bound.length), 1)[0]!;
          both((s) => s.deletePod(p));
        } else {
          // a relabel rewrites the node's slot (and the mask is rebuilt)
          const i = Math.floor(r() * nodes.length);
          const old = nodes[i]!;
          const upd: Node = { ...old, metadata: { ...old.metadata, labels: { ...old.metadata!.labels, zone: pick(["z0", "z1", "z2", "z3"]) } } };
          nodes[i] = upd;
          both((s) => s.updateNode(old, upd));
        }
        const ra = a.scheduleOne(), rb = b.scheduleOne();
        expect(outcome(ra), `seed ${seed} step ${step}`).toBe(outcome(rb));
        if (ra?.kind === "scheduled" && rb?.kind === "scheduled") {
          const p = ra.pod.pod;
          const done: Pod = { ...p, spec: { ...p.spec!, nodeName: ra.node } };
          for (const [s, res] of [[a, ra], [b, rb]] as const) { s.cache.finishBinding(res.pod.key); s.queue.done(res.pod.key); s.updatePod(p, done); }
          bound.push(done);
        }
      }
      expect(bound.length, `seed ${seed}`).toBeGreaterThan(100);
    }
  });
});
