/**
 * A profile's framework: the plugins enabled at each extension point (resolved from the
 * configuration the way kube-scheduler merges multiPoint, per-point enabled/disabled and `*`),
 * their score weights, the kernel's scoring profile, and the per-node filter runner used by
 * preemption. Construction validates everything and throws one SchedulerConfigError.
 */
import type { NodeInfo } from "../cache/node_info.ts";
import type { ScoringProfile } from "../kernel/types.ts";
import { DEFAULT_PROFILE } from "../kernel/types.ts";
import type { PodInfo } from "../types.ts";
import { fieldErr, type PluginRef, type PluginSet, type ProfileConfig, SchedulerConfigError } from "./config.ts";
import type { ClusterEventWithHint } from "./events.ts";
import {
  type BindPlugin, type EnqueueExtensions, type ExtensionPoint, EXTENSION_POINTS, type FilterPlugin, type Handle, implementedPoints,
  type KernelPlugin, type PermitPlugin, type Plugin, type PostBindPlugin, type PostFilterPlugin, type PreBindPlugin,
  type PreEnqueuePlugin, type PreFilterPlugin, type PreScorePlugin, type QueueSortPlugin, type ReservePlugin, type ScorePlugin,
} from "./interface.ts";
import type { PluginContext, Registry } from "./registry.ts";
import type { CycleState, MaybeStatus } from "./status.ts";

export interface FrameworkDeps {
  readonly registry: Registry;
  readonly defaultMultiPoint: readonly PluginRef[];
  readonly extendedResources: readonly string[];
  readonly binder: PluginContext["binder"];
  /** Services for plugins, minus the filter runners the framework provides itself. */
  readonly handle: Omit<Handle, "runFilterPluginsWithNominatedPods" | "runPreFilterExtensionAddPod" | "runPreFilterExtensionRemovePod" | "enabledFilters">;
}

function isKernelPlugin(p: Plugin): p is KernelPlugin {
  return "fillKernelInput" in p && typeof p.fillKernelInput === "function";
}
function hasEvents(p: Plugin): p is Plugin & EnqueueExtensions {
  return "eventsToRegister" in p && typeof p.eventsToRegister === "function";
}

/** upstream mergePluginSet: defaults minus disabled (all with "*"), custom entries replace defaults in place, the rest appended. */
function mergeSet(defaults: readonly PluginRef[], custom: PluginSet | undefined): { enabled: PluginRef[]; disabled: Set<string> } {
  const disabled = new Set(custom?.disabled ?? []);
  const customEnabled = custom?.enabled ?? [];
  const byName = new Map(customEnabled.map((p, i) => [p.name, i] as const));
  const replaced = new Set<number>();
  const enabled: PluginRef[] = [];
  if (!disabled.has("*")) {
    for (const d of defaults) {
      if (disabled.has(d.name)) continue;
      const ci = byName.get(d.name);
      if (ci !== undefined) { replaced.add(ci); enabled.push(customEnabled[ci] ?? d); } else enabled.push(d);
    }
  }
  customEnabled.forEach((p, i) => { if (!replaced.has(i)) enabled.push(p); });
  return { enabled, disabled };
}

export class Framework {
  readonly schedulerName: string;
  readonly percentageOfNodesToScore: number;
  readonly plugins = new Map<string, Plugin>();
  readonly points = new Map<ExtensionPoint, Plugin[]>();
  readonly scoreWeights = new Map<string, number>();
  preEnqueue: PreEnqueuePlugin[] = [];
  queueSort: QueueSortPlugin | undefined;
  preFilter: PreFilterPlugin[] = [];
  /** Every enabled filter in order (per-node forms; kernel plugins included). */
  filter: FilterPlugin[] = [];
  /** Non-kernel filters (run before the kernel call into `externalReject`). */
  externalFilter: FilterPlugin[] = [];
  /** Kernel plugins enabled at filter or score, with whether their filter is on. */
  kernel: { plugin: KernelPlugin; filterEnabled: boolean }[] = [];
  postFilter: PostFilterPlugin[] = [];
  preScore: PreScorePlugin[] = [];
  /** Non-kernel score plugins with weights. */
  score: { plugin: ScorePlugin; weight: number }[] = [];
  reserve: ReservePlugin[] = [];
  permit: PermitPlugin[] = [];
  preBind: PreBindPlugin[] = [];
  bind: BindPlugin[] = [];
  postBind: PostBindPlugin[] = [];
  kernelProfile: ScoringProfile = DEFAULT_PROFILE;
  readonly events = new Map<string, readonly ClusterEventWithHint[]>();
  readonly handle: Handle;

  constructor(cfg: ProfileConfig, globalPercentage: number, deps: FrameworkDeps) {
    this.schedulerName = cfg.schedulerName;
    this.percentageOfNodesToScore = cfg.percentageOfNodesToScore ?? globalPercentage;
    this.handle = {
      ...deps.handle,
      runFilterPluginsWithNominatedPods: (s, p, n) => this.runFilterPluginsWithNominatedPods(s, p, n),
      runPreFilterExtensionAddPod: (s, p, a, n) => this.runPreFilterExtensionAddPod(s, p, a, n),
      runPreFilterExtensionRemovePod: (s, p, r, n) => this.runPreFilterExtensionRemovePod(s, p, r, n),
      enabledFilters: () => this.filter.map((p) => p.name),
    };
    const errors: string[] = [];
    const base = `profiles[${cfg.index}]`;
    for (const [name, pc] of cfg.pluginConfig) {
      if (!deps.registry.has(name)) errors.push(fieldErr.invalid(`${pc.path.replace(/\.args$/, "")}.name`, name, `plugin "${name}" does not exist`));
    }
    const instantiate = (name: string, path: string): Plugin | undefined => {
      const have = this.plugins.get(name);
      if (have) return have;
      const factory = deps.registry.get(name);
      if (!factory) { errors.push(fieldErr.invalid(path, name, `plugin "${name}" does not exist`)); return undefined; }
      const pc = cfg.pluginConfig.get(name);
      const p = factory(pc?.args, { handle: this.handle, argsPath: pc?.path ?? `${base}.pluginConfig[${name}].args`, errors, extendedResources: deps.extendedResources, binder: deps.binder });
      this.plugins.set(name, p);
      return p;
    };
    const multi = mergeSet(deps.defaultMultiPoint, cfg.plugins.multiPoint);
    multi.enabled.forEach((ref, i) => { if (ref.weight < 0) errors.push(fieldErr.invalid(`${base}.plugins.multiPoint.enabled[${i}].weight`, ref.weight, "must be non-negative")); });
    const multiPlugins: { ref: PluginRef; plugin: Plugin; points: Set<ExtensionPoint> }[] = [];
    multi.enabled.forEach((ref) => {
      const idx = (cfg.plugins.multiPoint?.enabled ?? []).findIndex((e) => e.name === ref.name);
      const p = instantiate(ref.name, idx >= 0 ? `${base}.plugins.multiPoint.enabled[${idx}].name` : `${base}.plugins.multiPoint`);
      if (p) multiPlugins.push({ ref, plugin: p, points: implementedPoints(p) });
    });
    for (const point of EXTENSION_POINTS) {
      const set = cfg.plugins[point];
      const disabled = new Set(set?.disabled ?? []);
      const specific = set?.enabled ?? [];
      const list: { plugin: Plugin; weight: number }[] = [];
      const seen = new Set<string>();
      const add = (p: Plugin, weight: number, path: string): void => {
        if (seen.has(p.name)) { errors.push(fieldErr.duplicate(path, p.name)); return; }
        seen.add(p.name);
        list.push({ plugin: p, weight });
      };
      const multiNames = new Set(multiPlugins.map((m) => m.ref.name));
      const resolveSpecific = (ref: PluginRef, j: number): void => {
        const path = `${base}.plugins.${point}.enabled[${j}]`;
        const p = instantiate(ref.name, `${path}.name`);
        if (!p) return;
        if (!implementedPoints(p).has(point)) { errors.push(fieldErr.invalid(`${path}.name`, ref.name, `plugin "${ref.name}" does not extend ${point} plugin`)); return; }
        const mw = multiPlugins.find((m) => m.ref.name === ref.name)?.ref.weight ?? 0;
        add(p, ref.weight || mw || 1, `${path}.name`);
      };
      specific.forEach((ref, j) => { if (multiNames.has(ref.name)) resolveSpecific(ref, j); });
      if (!disabled.has("*")) {
        for (const m of multiPlugins) {
          if (!m.points.has(point) || disabled.has(m.ref.name) || specific.some((s) => s.name === m.ref.name)) continue;
          add(m.plugin, m.ref.weight || 1, `${base}.plugins.multiPoint`);
        }
      }
      specific.forEach((ref, j) => { if (!multiNames.has(ref.name)) resolveSpecific(ref, j); });
      this.points.set(point, list.map((x) => x.plugin));
      if (point === "score") for (const x of list) this.scoreWeights.set(x.plugin.name, x.weight);
    }
    if (errors.length > 0) throw new SchedulerConfigError(errors);
    this.assemble(base, errors);
    if (errors.length > 0) throw new SchedulerConfigError(errors);
  }

  private assemble(base: string, errors: string[]): void {
    // Escape hatches below: `points` only holds plugins whose methods `implementedPoints` verified.
    const at = <T>(p: ExtensionPoint): T[] => (this.points.get(p) ?? []) as unknown as T[];
    this.preEnqueue = at<PreEnqueuePlugin>("preEnqueue");
    const qs = at<QueueSortPlugin>("queueSort");
    if (qs.length !== 1) errors.push(fieldErr.invalid(`${base}.plugins.queueSort`, qs.map((p) => p.name), "exactly one queue sort plugin must be enabled"));
    this.queueSort = qs[0];
    this.preFilter = at<PreFilterPlugin>("preFilter");
    this.filter = at<FilterPlugin>("filter");
    this.externalFilter = this.filter.filter((p) => !isKernelPlugin(p) || typeof p.filterAll === "function");
    this.postFilter = at<PostFilterPlugin>("postFilter");
    this.preScore = at<PreScorePlugin>("preScore");
    this.reserve = at<ReservePlugin>("reserve");
    this.permit = at<PermitPlugin>("permit");
    this.preBind = at<PreBindPlugin>("preBind");
    this.bind = at<BindPlugin>("bind");
    if (this.bind.length === 0) errors.push(fieldErr.required(`${base}.plugins.bind`, "at least one bind plugin is needed"));
    this.postBind = at<PostBindPlugin>("postBind");
    const filterNames = new Set(this.filter.map((p) => p.name));
    const scorePlugins = this.points.get("score") ?? [];
    const weights: Record<string, number> = { nodeResourcesFit: 0, balancedAllocation: 0, taintToleration: 0, nodeAffinity: 0, imageLocality: 0 };
    const kernelSeen = new Set<string>();
    for (const p of [...this.filter, ...scorePlugins]) {
      if (!isKernelPlugin(p) || kernelSeen.has(p.name)) continue;
      kernelSeen.add(p.name);
      this.kernel.push({ plugin: p, filterEnabled: filterNames.has(p.name) });
    }
    for (const p of scorePlugins) {
      const w = this.scoreWeights.get(p.name) ?? 1;
      if (isKernelPlugin(p)) { if (p.kernelWeight) weights[p.kernelWeight] = w; } else this.score.push({ plugin: p as unknown as ScorePlugin, weight: w });
    }
    const fit = this.plugins.get("NodeResourcesFit");
    const bal = this.plugins.get("NodeResourcesBalancedAllocation");
    this.kernelProfile = {
      weights: {
        nodeResourcesFit: weights["nodeResourcesFit"] ?? 0, balancedAllocation: weights["balancedAllocation"] ?? 0,
        taintToleration: weights["taintToleration"] ?? 0, nodeAffinity: weights["nodeAffinity"] ?? 0, imageLocality: weights["imageLocality"] ?? 0,
      },
      fit: fit && "scoring" in fit ? (fit.scoring as ScoringProfile["fit"]) : DEFAULT_PROFILE.fit,
      balancedResources: bal && "resources" in bal ? (bal.resources as ScoringProfile["balancedResources"]) : DEFAULT_PROFILE.balancedResources,
    };
    for (const p of this.plugins.values()) if (hasEvents(p)) this.events.set(p.name, p.eventsToRegister());
  }

  /** All filters on one node, stopping at the first rejection (the per-node path). */
  runFilterPlugins(state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus {
    for (const p of this.filter) {
      if (state.skipFilter.has(p.name)) continue;
      const st = p.filter(state, pod, node);
      if (st && !st.isSuccess()) return st.withPlugin(p.name);
    }
    return undefined;
  }

  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus {
    const nominated = this.handle.nominatedPodsForNode(node.name).filter((p) => p.key !== pod.key && p.priority >= pod.priority);
    if (nominated.length > 0) {
      const s2 = state.clone();
      const n2 = node.clone();
      for (const p of nominated) { n2.addPod(p); this.runPreFilterExtensionAddPod(s2, pod, p, n2); }
      const st = this.runFilterPlugins(s2, pod, n2);
      if (st) return st;
    }
    return this.runFilterPlugins(state, pod, node);
  }

  runPreFilterExtensionAddPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void {
    for (const p of this.preFilter) p.preFilterExtensions?.addPod(state, pod, added, node);
  }
  runPreFilterExtensionRemovePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void {
    for (const p of this.preFilter) p.preFilterExtensions?.removePod(state, pod, removed, node);
  }
}
