/**
 * DefaultPreemption (PostFilter): when no node fits, find nodes where evicting lower-priority pods
 * makes room — fewest PDB violations, then lowest highest victim priority, smallest priority sum,
 * fewest victims, latest start — and nominate the pod there. Victims are the minimal set: every
 * lower-priority pod is removed, then pods are reprieved (PDB-violating ones first, most important
 * first) while the preemptor still fits.
 */
import type { NodeInfo } from "../../cache/node_info.ts";
import type { Snapshot } from "../../cache/snapshot.ts";
import { fieldErr } from "../../framework/config.ts";
import type { Handle, NodeStatusReader, PdbInfo, PostFilterPlugin, PostFilterResult } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { type CycleState, Status } from "../../framework/status.ts";
import type { PodInfo } from "../../types.ts";
import { argsObject, intArg } from "../_args.ts";

export const NAME = "DefaultPreemption";
export const MSG_NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const MSG_NO_VICTIMS = "No preemption victims found for incoming pod";
export const MSG_NEVER = "not eligible due to preemptionPolicy=Never.";
export const MSG_TERMINATING = "not eligible due to a terminating pod on the nominated node.";
const MAX_INT32 = 2147483647;

interface Candidate {
  readonly node: string;
  readonly victims: PodInfo[];
  readonly pdbViolations: number;
}

/** Higher priority first; at equal priority the earlier-started pod is more important. */
export function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.startTime - b.startTime;
}

function splitByPdb(pods: readonly PodInfo[], pdbs: readonly PdbInfo[]): { violating: PodInfo[]; ok: PodInfo[] } {
  const allowed = pdbs.map((p) => p.disruptionsAllowed);
  const violating: PodInfo[] = [], ok: PodInfo[] = [];
  for (const p of pods) {
    let violates = false;
    pdbs.forEach((pdb, i) => {
      if (pdb.namespace !== p.namespace || pdb.selector.empty || pdb.selector.nothing || !pdb.selector.matches(p.labels)) return;
      if (pdb.disruptedPods.has(p.name)) return;
      allowed[i] = (allowed[i] ?? 0) - 1;
      if ((allowed[i] ?? 0) < 0) violates = true;
    });
    (violates ? violating : ok).push(p);
  }
  return { violating, ok };
}

/** kube-scheduler's histogram text: "N reason" entries sorted as strings, joined by ", ". */
export function reasonHistogram(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([r, n]) => `${n} ${r}`).sort().join(", ");
}

export function newDefaultPreemption(args: unknown, ctx: PluginContext): PostFilterPlugin {
  const a = argsObject(args, ctx, "DefaultPreemptionArgs");
  const pct = intArg(ctx, a, "minCandidateNodesPercentage", 10, 0, 100, "[0, 100]");
  const abs = intArg(ctx, a, "minCandidateNodesAbsolute", 100, 0, Number.MAX_SAFE_INTEGER, "[0, inf)");
  if (pct === 0 && abs === 0) {
    ctx.errors.push(fieldErr.invalid(`${ctx.argsPath}.minCandidateNodesPercentage`, 0, "both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero"));
  }
  const handle: Handle = ctx.handle;

  function selectVictims(state: CycleState, pod: PodInfo, node: NodeInfo, pdbs: readonly PdbInfo[]): { victims: PodInfo[]; violations: number } | Status {
    const potential: PodInfo[] = [];
    for (const p of node.pods.slice()) {
      if (p.priority < pod.priority) {
        potential.push(p);
        node.removePod(p.key);
        handle.runPreFilterExtensionRemovePod(state, pod, p, node);
      }
    }
    if (potential.length === 0) return Status.unresolvable(MSG_NO_VICTIMS);
    const st = handle.runFilterPluginsWithNominatedPods(state, pod, node);
    if (st) return st;
    potential.sort(moreImportant);
    const { violating, ok } = splitByPdb(potential, pdbs);
    const victims: PodInfo[] = [];
    let violations = 0;
    const reprieve = (p: PodInfo): boolean => {
      node.addPod(p);
      handle.runPreFilterExtensionAddPod(state, pod, p, node);
      if (handle.runFilterPluginsWithNominatedPods(state, pod, node)) {
        node.removePod(p.key);
        handle.runPreFilterExtensionRemovePod(state, pod, p, node);
        victims.push(p);
        return false;
      }
      return true;
    };
    for (const p of violating) if (!reprieve(p)) violations++;
    for (const p of ok) reprieve(p);
    victims.sort(moreImportant);
    return { victims, violations };
  }

  function pick(cands: readonly Candidate[]): Candidate | undefined {
    let best = cands.filter((c) => c.victims.length === 0);
    if (best.length > 0) return best[0];
    best = cands.slice();
    const narrow = (score: (c: Candidate) => number): void => {
      if (best.length <= 1) return;
      const min = Math.min(...best.map(score));
      best = best.filter((c) => score(c) === min);
    };
    narrow((c) => c.pdbViolations);
    narrow((c) => c.victims[0]?.priority ?? 0);
    narrow((c) => c.victims.reduce((s, v) => s + v.priority + MAX_INT32 + 1, 0));
    narrow((c) => c.victims.length);
    narrow((c) => {
      const top = c.victims[0]?.priority ?? 0;
      let earliest = Infinity;
      for (const v of c.victims) if (v.priority === top && v.startTime < earliest) earliest = v.startTime;
      return -earliest;
    });
    return best[0];
  }

  return {
    name: NAME,
    postFilter(state: CycleState, pod: PodInfo, snap: Snapshot, statuses: NodeStatusReader) {
      const none = (msg: string, clear: boolean): { result: PostFilterResult | undefined; status: Status } => ({
        result: clear ? { nominatedNodeName: "", victims: [] } : undefined,
        // Upstream's DefaultPreemption prefixes every PostFilter message with "preemption: ".
        status: Status.unschedulable(`preemption: ${msg}`),
      });
      if (pod.preemptNever) return none(MSG_NEVER, false);
      const nominated = pod.pod.status?.nominatedNodeName ?? "";
      if (nominated !== "") {
        const i = snap.index.get(nominated);
        const st = i === undefined ? undefined : statuses.get(i);
        const node = i === undefined ? undefined : snap.nodes[i];
        if (node && st?.code !== "UnschedulableAndUnresolvable" && node.pods.some((p) => p.terminating && p.priority < pod.priority)) {
          return none(MSG_TERMINATING, false);
        }
      }
      const n = snap.size;
      const potential: number[] = [];
      for (let i = 0; i < n; i++) if (statuses.get(i)?.code === "Unschedulable") potential.push(i);
      const reasons = new Map<string, number>();
      let tried = 0;
      const fail = (): { result: PostFilterResult | undefined; status: Status } => {
        if (n - tried > 0) reasons.set(MSG_NOT_HELPFUL, (reasons.get(MSG_NOT_HELPFUL) ?? 0) + n - tried);
        return none(`0/${n} nodes are available: ${reasonHistogram(reasons)}.`, true);
      };
      if (potential.length === 0) return fail();
      let want = Math.floor((potential.length * pct) / 100);
      if (want < abs) want = abs;
      if (want > potential.length) want = potential.length;
      const pdbs = handle.pdbs();
      const ok: Candidate[] = [], violating: Candidate[] = [];
      for (const i of potential) {
        const orig = snap.nodes[i];
        if (!orig) continue;
        const res = selectVictims(state.clone(), pod, orig.clone(), pdbs);
        if (res instanceof Status) {
          tried++;
          for (const r of res.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
          continue;
        }
        (res.violations === 0 ? ok : violating).push({ node: orig.name, victims: res.victims, pdbViolations: res.violations });
        if (ok.length > 0 && ok.length + violating.length >= want) break;
      }
      const chosen = pick([...ok, ...violating]);
      if (!chosen) return fail();
      return { result: { nominatedNodeName: chosen.node, victims: chosen.victims }, status: new Status("Success") };
    },
  } satisfies PostFilterPlugin;
}
