/** Test support for plugin tables: a cache + snapshot (twin kernel) seeded with nodes and pods. */
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import type { LabelSelector } from "../../api/selectors/labels.ts";
import { SchedulerCache } from "../cache/cache.ts";
import { Snapshot } from "../cache/snapshot.ts";
import { FakeClock } from "../clock.ts";
import type { FilterPlugin, Handle, PdbInfo, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin } from "../framework/interface.ts";
import type { PluginContext } from "../framework/registry.ts";
import { CycleState } from "../framework/status.ts";
import { createTwinKernel } from "../kernel/mod.ts";
import { MemoryBinder } from "../testing.ts";
import type { PodInfo } from "../types.ts";

export interface Fixture {
  readonly cache: SchedulerCache;
  readonly snap: Snapshot;
  readonly handle: Handle;
  info(pod: Pod): PodInfo;
  ctx(errors?: string[]): PluginContext;
}

export function fixture(nodes: readonly Node[], pods: readonly Pod[] = [], extra: { selectors?: LabelSelector[]; pdbs?: PdbInfo[]; ns?: Record<string, Record<string, string>> } = {}): Fixture {
  const cache = new SchedulerCache({ clock: new FakeClock(), extendedResources: ["example.com/gpu"] });
  for (const [n, l] of Object.entries(extra.ns ?? {})) cache.setNamespace(n, l);
  const snap = new Snapshot(createTwinKernel({ extendedResources: ["example.com/gpu"] }), cache.namespaceLabels);
  for (const n of nodes) cache.addNode(n);
  for (const p of pods) cache.addPod(p);
  cache.updateSnapshot(snap);
  const handle: Handle = {
    nominatedPodsForNode: () => [],
    nominations: () => [],
    nominationChanges: () => ({ next: 0, nodes: [] }),
    nominatedNode: () => undefined,
    preemptionInFlight: () => false,
    preemptionRunning: () => false,
    namespaceLabels: cache.namespaceLabels,
    workloadSelectorsFor: (p) => (extra.selectors ?? []).filter((s) => s.matches(p.labels)),
    pdbs: () => extra.pdbs ?? [],
    runFilterPluginsWithNominatedPods: () => undefined,
    runPreFilterExtensionAddPod: () => undefined,
    runPreFilterExtensionRemovePod: () => undefined,
    enabledFilters: () => ["NodeResourcesFit"],
  };
  return {
    cache, snap, handle,
    info: (pod) => cache.podInfo(pod),
    ctx: (errors = []) => ({ handle, argsPath: "args", errors, extendedResources: ["example.com/gpu"], binder: new MemoryBinder() }),
  };
}

/** Runs PreFilter (if any) and the per-node Filter; node name → first reason ("" = fits). */
export function filterResults(p: Plugin & FilterPlugin, f: Fixture, pod: PodInfo): Record<string, string> {
  const state = new CycleState();
  if ("preFilter" in p) (p as unknown as PreFilterPlugin).preFilter(state, pod, f.snap);
  const out: Record<string, string> = {};
  for (const n of f.snap.nodes) out[n.name] = state.skipFilter.has(p.name) ? "" : p.filter(state, pod, n)?.reasons[0] ?? "";
  // The batched form must agree with the per-node form.
  if (p.filterAll && !state.skipFilter.has(p.name)) {
    const batch: Record<string, string> = Object.fromEntries(f.snap.nodes.map((n) => [n.name, ""]));
    p.filterAll(state, pod, f.snap, { reject: (i, st) => { const n = f.snap.nodes[i]; if (n) batch[n.name] = st.reasons[0] ?? ""; } });
    for (const [k, v] of Object.entries(batch)) if (v !== out[k] && v !== "") throw new Error(`filterAll disagrees on ${k}: ${v} vs ${out[k]}`);
  }
  return out;
}

/** PreScore + Score + NormalizeScore over all nodes; node name → normalized score (undefined = skipped). */
export function scoreResults(p: Plugin & ScorePlugin & Partial<PreScorePlugin>, f: Fixture, pod: PodInfo): Record<string, number> | undefined {
  const state = new CycleState();
  const st = p.preScore?.(state, pod, f.snap, () => f.snap.nodes);
  if (st?.code === "Skip") return undefined;
  const raw = new Float64Array(f.snap.nodes.map((n) => p.score(state, pod, n)));
  p.normalizeScore?.(state, pod, raw, f.snap.nodes);
  return Object.fromEntries(f.snap.nodes.map((n, i) => [n.name, raw[i] ?? 0]));
}

import type { KernelPlugin, KernelPodInput } from "../framework/interface.ts";
import { createScoreOutput, type ScoringProfile } from "../kernel/mod.ts";
import { DEFAULT_PROFILE } from "../kernel/types.ts";

/** One kernel call with only `plugins` contributing; node name → "" (feasible, with score) or the failing reason bits. */
export function kernelResults(plugins: readonly KernelPlugin[], f: Fixture, pod: PodInfo, weights: Partial<ScoringProfile["weights"]>, profile: Partial<ScoringProfile> = {}):
  Record<string, { status: number; score: number }> {
  const input: KernelPodInput = { requests: pod.requests, toleratesUnschedulable: true, toleratedTaints: [0xffffffff], toleratedPreferTaints: [0xffffffff], numContainers: pod.numContainers, seed: 1 };
  const state = new CycleState();
  for (const p of plugins) p.fillKernelInput(state, pod, f.snap, input, true);
  f.snap.kernel.setProfile({
    ...DEFAULT_PROFILE, ...profile,
    weights: { nodeResourcesFit: 0, balancedAllocation: 0, taintToleration: 0, nodeAffinity: 0, imageLocality: 0, ...weights },
  });
  const out = f.snap.kernel.filterAndScoreInto(input, createScoreOutput(f.snap.size));
  return Object.fromEntries(f.snap.nodes.map((n, i) => [n.name, { status: out.status[i] ?? 0, score: out.scores[i] ?? 0 }]));
}
