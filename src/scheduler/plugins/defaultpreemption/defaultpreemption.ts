/**
 * DefaultPreemption (PostFilter): when no node fits, find nodes where evicting lower-priority pods
 * makes room — fewest PDB violations, then lowest highest victim priority, smallest priority sum,
 * fewest victims, latest start — and nominate the pod there. Victims are the minimal set: every
 * lower-priority pod is removed, then pods are reprieved (PDB-violating ones first, most important
 * first) while the preemptor still fits.
 *
 * Candidates: the nodes whose status is Unschedulable (not UnschedulableAndUnresolvable), scanned
 * from a random offset (as upstream) until max(minCandidateNodesPercentage % of them,
 * minCandidateNodesAbsolute) candidates were found, at least one without PDB violations.
 *
 * Dry runs have two paths with the same result. The generic one clones the node and the cycle
 * state and runs every filter 1 + #potential victims times. The resource-only one applies when only
 * NodeResourcesFit can change its verdict as pods leave the node — the node failed on it alone
 * (`NodeStatusReader.resourcesOnly`), the pod has no host ports, no required inter-pod
 * (anti-)affinity and no DoNotSchedule spread constraint, the pods nominated there carry no
 * required anti-affinity, and every enabled filter is an in-tree one whose verdict cannot get worse
 * when pods leave — and does the same removal and reprieve arithmetically. The chosen candidate of
 * a resource-only run is confirmed with one real filter run (a mismatch falls back to the generic
 * path for the whole attempt).
 */
import type { NodeInfo } from "../../cache/node_info.ts";
import type { Snapshot } from "../../cache/snapshot.ts";
import { fieldErr } from "../../framework/config.ts";
import type { Handle, NodeStatusReader, PdbInfo, PostFilterPlugin, PostFilterResult, PreEnqueuePlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { type CycleState, Status } from "../../framework/status.ts";
import type { PodInfo } from "../../types.ts";
import { argsObject, intArg } from "../_args.ts";
import { ERR_TOO_MANY_PODS, type FitNode, fits, insufficient, NAME as FIT } from "../noderesourcesfit/noderesourcesfit.ts";
import { NAMES as VOLUME_PLUGINS } from "../volumes/volumes.ts";

export const NAME = "DefaultPreemption";
export const MSG_NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const MSG_NO_VICTIMS = "No preemption victims found for incoming pod";
export const MSG_NEVER = "not eligible due to preemptionPolicy=Never.";
export const MSG_TERMINATING = "not eligible due to a terminating pod on the nominated node.";
/** PreEnqueue's message while the pod's own evictions are running (upstream's async preemption). */
export const MSG_WAITING = "waiting for the preemption for this pod to be finished";
const MAX_INT32 = 2147483647;

interface Candidate {
  readonly node: string;
  /** Snapshot slot (candidates are ordered by it before picking). */
  readonly slot: number;
  /** Most important first. */
  readonly victims: readonly PodInfo[];
  readonly pdbViolations: number;
  /** Found by the resource-only path (confirmed before it is returned). */
  readonly arithmetic: boolean;
  /** pick's keys after the PDB violations: the highest victim priority, the priority sum, −earliest start among the highest-priority victims. */
  readonly top: number;
  readonly sum: number;
  readonly negEarliest: number;
}

function candidate(node: string, slot: number, victims: readonly PodInfo[], pdbViolations: number, arithmetic: boolean): Candidate {
  const top = victims[0]?.priority ?? 0;
  let sum = 0, earliest = Infinity;
  for (const v of victims) {
    sum += v.priority + MAX_INT32 + 1;
    if (v.priority === top && v.startTime < earliest) earliest = v.startTime;
  }
  return { node, slot, victims, pdbViolations, arithmetic, top, sum, negEarliest: -earliest };
}

const NO_PODS: readonly PodInfo[] = [];

/** A resource-only dry run's outcome on one node: a SHORT_* mask (> 0, ruled out early), the dry run's failure, or the candidate. */
type DryRunOutcome = number | Status | Candidate;

/**
 * Resource-only outcomes per snapshot slot, kept across scans. An outcome depends on the node (its
 * pods and allocatable), the preemptor's priority and requests, the PDBs and the pods nominated to
 * the node. It is reused while the slot holds the same NodeInfo (snapshot nodes are never changed
 * in place: a change installs a new clone) and the same nominated list (lists are replaced, never
 * edited), the preemptor has the same priority and requests and is not itself nominated there, and
 * the PDB list is the same array. In a full cluster most of a scan's nodes did not change since
 * the previous preemptor's scan.
 */
class OutcomeMemo {
  private shape = "";
  private pdbs: readonly PdbInfo[] | undefined;
  private nodes: (NodeInfo | undefined)[] = [];
  private lists: (readonly PodInfo[] | undefined)[] = [];
  private outcomes: (DryRunOutcome | undefined)[] = [];
  /** Per slot: the node's nominated pods (NO_PODS for most), kept current from the nominator's change log. */
  private current: (readonly PodInfo[])[] = [];
  /** The snapshot's slot layout `current` follows (slots move only when nodes come or go, which bumps labelsEpoch). */
  private layout = -1;
  /** The nominator's next change number. */
  private seen = 0;

  constructor(private readonly handle: Handle) {}

  /** Starts a scan; outcomes are forgotten when the pod's shape or the PDB list changed. */
  begin(pod: PodInfo, pdbs: readonly PdbInfo[], snap: Snapshot): void {
    const r = pod.requests;
    const shape = `${pod.priority}/${r.cpu}/${r.memory}/${r.ephemeralStorage}`;
    const n = snap.size;
    if (shape !== this.shape || pdbs !== this.pdbs || this.nodes.length !== n) {
      this.shape = shape;
      this.pdbs = pdbs;
      this.nodes = new Array<NodeInfo | undefined>(n).fill(undefined);
      this.lists = new Array<readonly PodInfo[] | undefined>(n).fill(undefined);
      this.outcomes = new Array<DryRunOutcome | undefined>(n).fill(undefined);
    }
    const changes = this.handle.nominationChanges(this.seen);
    this.seen = changes.next;
    if (changes.nodes === undefined || this.layout !== snap.labelsEpoch || this.current.length !== n) {
      this.layout = snap.labelsEpoch;
      this.current = new Array<readonly PodInfo[]>(n).fill(NO_PODS);
      for (const [name, list] of this.handle.nominations()) {
        const i = snap.index.get(name);
        if (i !== undefined) this.current[i] = list;
      }
      return;
    }
    for (const name of changes.nodes) {
      const i = snap.index.get(name);
      if (i === undefined) continue;
      const list = this.handle.nominatedPodsForNode(name);
      this.current[i] = list.length === 0 ? NO_PODS : list;
    }
  }
  /** The pods nominated to the node in `slot` (after begin). */
  nominated(slot: number): readonly PodInfo[] { return this.current[slot] ?? NO_PODS; }
  get(slot: number, node: NodeInfo, list: readonly PodInfo[]): DryRunOutcome | undefined {
    return this.nodes[slot] === node && this.lists[slot] === list ? this.outcomes[slot] : undefined;
  }
  set(slot: number, node: NodeInfo, list: readonly PodInfo[], outcome: DryRunOutcome): void {
    this.nodes[slot] = node;
    this.lists[slot] = list;
    this.outcomes[slot] = outcome;
  }
}

/** Candidates found in scan order (ascending slots from the scan's start, wrapping once), put in slot order. */
function bySlot(found: Candidate[]): Candidate[] {
  for (let j = 1; j < found.length; j++) {
    const a = found[j - 1], b = found[j];
    if (a && b && b.slot < a.slot) return [...found.slice(j), ...found.slice(0, j)];
  }
  return found;
}

/**
 * Filters whose verdict on a node depends on nothing the dry run changes, or can only improve when
 * pods leave it (ports, anti-affinity); required pod affinity and DoNotSchedule spread are checked
 * per pod. Any other enabled filter sends every dry run down the generic path.
 */
const REMOVAL_SAFE_FILTERS: ReadonlySet<string> = new Set([
  "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", FIT, "InterPodAffinity", "PodTopologySpread", ...VOLUME_PLUGINS,
]);

/** Test and tuning knobs (the registry uses the defaults). */
export interface DefaultPreemptionOptions {
  /** Use the resource-only dry run where it applies (default true). */
  readonly resourceFastPath?: boolean;
  /** Uniform [0, 1) source for the scan offset (default: a fixed-seed xorshift32, reproducible runs). */
  readonly random?: () => number;
  /**
   * Victims with an eviction in flight count as terminating on the pod's nominated node (default
   * true; false reproduces the earlier behaviour for before/after benchmarks).
   */
  readonly evictionsInFlightTerminate?: boolean;
  /**
   * PreEnqueue keeps a preemptor out of the active queue while its evictions run (default true,
   * upstream's async preemption); false lets other pods' events requeue it meanwhile (the earlier
   * behaviour, for before/after benchmarks).
   */
  readonly gateWhilePreempting?: boolean;
}

export interface DefaultPreemptionPlugin extends PostFilterPlugin, PreEnqueuePlugin {
  /**
   * Dry runs by path, nodes the resource-only path ruled out before a dry run (`rejected`, memo
   * hits included), resource-only outcomes reused from an earlier scan (`reused`), and
   * confirmations of resource-only choices that failed (expected 0).
   */
  readonly stats: { generic: number; arithmetic: number; rejected: number; reused: number; confirmFailed: number };
}

/** A node's requested amounts as pods are removed and reprieved (the resources the pod asks for only). */
class Tally implements FitNode {
  cpu: number;
  memory: number;
  ephemeral: number;
  pods: number;
  /** Only the scalar resources the pod asks for (undefined when it asks for none). */
  private readonly scalar: Map<string, number> | undefined;
  /** The node's allocatable cpu / memory / ephemeral-storage / pods, read once per node (a Map lookup each otherwise, per reprieve check). */
  private readonly allocCpu: number;
  private readonly allocMemory: number;
  private readonly allocEphemeral: number;
  private readonly allocPods: number;
  constructor(private readonly node: NodeInfo, pod: PodInfo) {
    this.cpu = node.requestedCpu;
    this.memory = node.requestedMemory;
    this.ephemeral = node.requestedEphemeral;
    this.pods = node.pods.length;
    this.allocCpu = node.allocCpu;
    this.allocMemory = node.allocMemory;
    this.allocEphemeral = node.allocEphemeral;
    this.allocPods = node.allocPods;
    if (pod.scalarRequests.size > 0) {
      this.scalar = new Map();
      for (const k of pod.scalarRequests.keys()) this.scalar.set(k, node.requested(k));
    }
  }
  alloc(resource: string): number {
    if (resource === "cpu") return this.allocCpu;
    if (resource === "memory") return this.allocMemory;
    if (resource === "ephemeral-storage") return this.allocEphemeral;
    if (resource === "pods") return this.allocPods;
    return this.node.alloc(resource);
  }
  requested(resource: string): number {
    if (resource === "cpu") return this.cpu;
    if (resource === "memory") return this.memory;
    if (resource === "ephemeral-storage") return this.ephemeral;
    if (resource === "pods") return this.pods;
    return this.scalar?.get(resource) ?? 0;
  }
  add(p: PodInfo, sign: 1 | -1): void {
    const r = p.requests;
    this.cpu += sign * r.cpu;
    this.memory += sign * r.memory;
    this.ephemeral += sign * r.ephemeralStorage;
    this.pods += sign;
    if (this.scalar) for (const [k, v] of this.scalar) this.scalar.set(k, v + sign * (p.scalarRequests.get(k) ?? 0));
  }
}


const SHORT_PODS = 1, SHORT_CPU = 2, SHORT_MEMORY = 4, SHORT_EPHEMERAL = 8;
/** Not decided here (the pod asks for scalar resources): run the full dry run. */
const SHORT_UNKNOWN = -1;

/**
 * The resource-only dry run's first check without allocating: with every lower-priority pod gone
 * and the counted nominated pods added, what does the node still lack for `pod`? 0 = the pod fits
 * then (the node is a candidate), a SHORT_* mask = the reasons `insufficient` would give,
 * SHORT_UNKNOWN = the pod asks for scalar resources (left to the full dry run).
 */
function shortWithAllRemoved(pod: PodInfo, node: NodeInfo, nominated: readonly PodInfo[]): number {
  if (pod.scalarRequests.size > 0) return SHORT_UNKNOWN;
  // Same order of additions as the Tally of selectVictimsByResources: nominated pods in, then the lower-priority pods out.
  let cpu = node.requestedCpu, memory = node.requestedMemory, ephemeral = node.requestedEphemeral, pods = node.pods.length;
  for (const p of nominated) {
    const r = p.requests;
    cpu += r.cpu; memory += r.memory; ephemeral += r.ephemeralStorage; pods++;
  }
  let lower = 0;
  for (const p of node.pods) {
    if (p.priority >= pod.priority) continue;
    lower++;
    const r = p.requests;
    cpu -= r.cpu; memory -= r.memory; ephemeral -= r.ephemeralStorage; pods--;
  }
  if (lower === 0) return SHORT_UNKNOWN; // "no victims": the full dry run reports it
  let short = 0;
  if (pods + 1 > node.allocPods) short |= SHORT_PODS;
  const r = pod.requests;
  if (r.cpu > 0 && r.cpu > node.allocCpu - cpu) short |= SHORT_CPU;
  if (r.memory > 0 && r.memory > node.allocMemory - memory) short |= SHORT_MEMORY;
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > node.allocEphemeral - ephemeral) short |= SHORT_EPHEMERAL;
  return short;
}

/** Per-reason counts of the nodes `shortWithAllRemoved` ruled out (added to the reasons map once per scan). */
class ShortCounts {
  pods = 0;
  cpu = 0;
  memory = 0;
  ephemeral = 0;
  add(short: number): void {
    if (short & SHORT_PODS) this.pods++;
    if (short & SHORT_CPU) this.cpu++;
    if (short & SHORT_MEMORY) this.memory++;
    if (short & SHORT_EPHEMERAL) this.ephemeral++;
  }
  /** Adds the counts under `insufficient`'s wording. */
  into(reasons: Map<string, number>): void {
    const add = (r: string, n: number): void => {
      if (n > 0) reasons.set(r, (reasons.get(r) ?? 0) + n);
    };
    add(ERR_TOO_MANY_PODS, this.pods);
    add("Insufficient cpu", this.cpu);
    add("Insufficient memory", this.memory);
    add("Insufficient ephemeral-storage", this.ephemeral);
  }
}

/** xorshift32 as a [0, 1) source. */
function seededRandom(seed: number): () => number {
  let x = seed | 0 || 0x2545f491;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Higher priority first; at equal priority the earlier-started pod is more important. */
export function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.startTime - b.startTime;
}

function splitByPdb(pods: readonly PodInfo[], pdbs: readonly PdbInfo[]): { violating: PodInfo[]; ok: PodInfo[] } {
  if (pdbs.length === 0) return { violating: [], ok: pods.slice() };
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

export function newDefaultPreemption(args: unknown, ctx: PluginContext, opts: DefaultPreemptionOptions = {}): DefaultPreemptionPlugin {
  const a = argsObject(args, ctx, "DefaultPreemptionArgs");
  const pct = intArg(ctx, a, "minCandidateNodesPercentage", 10, 0, 100, "[0, 100]");
  const abs = intArg(ctx, a, "minCandidateNodesAbsolute", 100, 0, Number.MAX_SAFE_INTEGER, "[0, inf)");
  if (pct === 0 && abs === 0) {
    ctx.errors.push(fieldErr.invalid(`${ctx.argsPath}.minCandidateNodesPercentage`, 0, "both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero"));
  }
  const handle: Handle = ctx.handle;
  const fastPathOn = opts.resourceFastPath ?? true;
  const random = opts.random ?? seededRandom(0x5eed);
  const stats = { generic: 0, arithmetic: 0, rejected: 0, reused: 0, confirmFailed: 0 };
  const inFlight = opts.evictionsInFlightTerminate ?? true;
  const gate = opts.gateWhilePreempting ?? true;
  const memo = new OutcomeMemo(handle);

  /** The generic dry run: `node` and `state` are copies it may change. */
  function selectVictims(state: CycleState, pod: PodInfo, node: NodeInfo, pdbs: readonly PdbInfo[]): { victims: PodInfo[]; violations: number } | Status {
    stats.generic++;
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

  /**
   * The resource-only dry run: the same removal and reprieve order, with NodeResourcesFit's check
   * on running totals (the node's requests plus the nominated pods that count for `pod`).
   */
  function selectVictimsByResources(pod: PodInfo, node: NodeInfo, nominated: readonly PodInfo[], pdbs: readonly PdbInfo[]): { victims: PodInfo[]; violations: number } | Status {
    // (dryRun has already rejected, through shortWithAllRemoved, every node where this fails)
    stats.arithmetic++;
    const potential: PodInfo[] = [];
    for (const p of node.pods) if (p.priority < pod.priority) potential.push(p);
    if (potential.length === 0) return Status.unresolvable(MSG_NO_VICTIMS);
    const t = new Tally(node, pod);
    for (const p of nominated) t.add(p, 1);
    for (const p of potential) t.add(p, -1);
    const reasons = insufficient(pod, t);
    if (reasons.length > 0) return Status.unschedulable(...reasons).withPlugin(FIT);
    potential.sort(moreImportant);
    const { violating, ok } = splitByPdb(potential, pdbs);
    const victims: PodInfo[] = [];
    let violations = 0;
    // Reprieve in order (PDB-violating first); no closures: this runs for every candidate node.
    for (let g = 0; g < 2; g++) {
      const group = g === 0 ? violating : ok;
      for (const p of group) {
        t.add(p, 1);
        if (fits(pod, t)) continue;
        t.add(p, -1);
        victims.push(p);
        if (g === 0) violations++;
      }
    }
    victims.sort(moreImportant);
    return { victims, violations };
  }

  /** Pod-level preconditions of the resource-only path (node-level ones are checked per node). */
  function podAllowsFastPath(state: CycleState, pod: PodInfo, statuses: NodeStatusReader): boolean {
    if (!fastPathOn || !statuses.resourcesOnly) return false;
    if (pod.parseError !== undefined || pod.hostPorts.length > 0 || pod.requiredAffinity.length > 0 || pod.requiredAntiAffinity.length > 0) return false;
    const filters = handle.enabledFilters();
    for (const f of filters) if (!REMOVAL_SAFE_FILTERS.has(f)) return false;
    // PodTopologySpread's PreFilter skips its Filter when the pod has no DoNotSchedule constraint.
    if (filters.includes("PodTopologySpread") && !state.skipFilter.has("PodTopologySpread")) return false;
    return true;
  }

  /** Of the pods nominated to a node (`all`), those that count against it for `pod`; undefined when one rules the resource-only path out. */
  function countedNominated(pod: PodInfo, all: readonly PodInfo[]): readonly PodInfo[] | undefined {
    if (all.length === 0) return NO_PODS;
    const out: PodInfo[] = [];
    for (const p of all) {
      if (p.key === pod.key || p.priority < pod.priority) continue;
      if (p.requiredAntiAffinity.length > 0) return undefined;
      out.push(p);
    }
    return out;
  }

  /** One real filter run of a resource-only choice: the node without the victims must fit the pod. */
  function confirm(state: CycleState, pod: PodInfo, orig: NodeInfo, victims: readonly PodInfo[]): boolean {
    const s = state.clone();
    const n = orig.clone();
    for (const v of victims) { n.removePod(v.key); handle.runPreFilterExtensionRemovePod(s, pod, v, n); }
    return handle.runFilterPluginsWithNominatedPods(s, pod, n) === undefined;
  }

  /**
   * upstream's pickOneNodeForPreemption: a candidate without victims if any, else the lexicographic
   * minimum of (PDB violations, highest victim priority, priority sum, victim count, −earliest start
   * among the highest-priority victims); ties go to the earlier candidate. One pass, no closures.
   */
  function pick(cands: readonly Candidate[]): Candidate | undefined {
    for (const c of cands) if (c.victims.length === 0) return c;
    let best: Candidate | undefined;
    for (const c of cands) {
      if (best === undefined || c.pdbViolations < best.pdbViolations || (c.pdbViolations === best.pdbViolations && (c.top < best.top ||
        (c.top === best.top && (c.sum < best.sum || (c.sum === best.sum && (c.victims.length < best.victims.length ||
          (c.victims.length === best.victims.length && c.negEarliest < best.negEarliest)))))))) {
        best = c;
      }
    }
    return best;
  }

  return {
    name: NAME,
    stats,
    // The scheduler re-runs PreEnqueue for the pod once its preemption finished (no event needed).
    preEnqueue(pod: PodInfo) {
      return gate && handle.preemptionRunning(pod.key) ? Status.unresolvable(MSG_WAITING) : undefined;
    },
    postFilter(state: CycleState, pod: PodInfo, snap: Snapshot, statuses: NodeStatusReader) {
      const none = (msg: string, clear: boolean): { result: PostFilterResult | undefined; status: Status } => ({
        result: clear ? { nominatedNodeName: "", victims: [] } : undefined,
        // Upstream's DefaultPreemption prefixes every PostFilter message with "preemption: ".
        status: Status.unschedulable(`preemption: ${msg}`),
      });
      if (pod.preemptNever) return none(MSG_NEVER, false);
      // upstream PodEligibleToPreemptOthers. The nominator's record is the scheduler's latest
      // decision (the pod's status catches up when our status patch comes back through the watch).
      const nominated = handle.nominatedNode(pod.key) || (pod.pod.status?.nominatedNodeName ?? "");
      if (nominated !== "") {
        const i = snap.index.get(nominated);
        const st = i === undefined ? undefined : statuses.get(i);
        const node = i === undefined ? undefined : snap.nodes[i];
        if (node && st?.code !== "UnschedulableAndUnresolvable" &&
          node.pods.some((p) => p.priority < pod.priority && (p.terminating || (inFlight && handle.preemptionInFlight(p.key))))) {
          return none(MSG_TERMINATING, false);
        }
      }
      const n = snap.size;
      const potential: number[] = [];
      for (let i = 0; i < n; i++) if (statuses.get(i)?.code === "Unschedulable") potential.push(i);
      if (potential.length === 0) return fail(n, 0, new Map());
      let want = Math.floor((potential.length * pct) / 100);
      if (want < abs) want = abs;
      if (want > potential.length) want = potential.length;
      // upstream: rand.Int31n(len(potentialNodes)) as the first node of the scan, wrapping around.
      const offset = Math.min(potential.length - 1, Math.floor(random() * potential.length));
      const fast = podAllowsFastPath(state, pod, statuses);
      const run = (useFast: boolean) => dryRun(state, pod, snap, statuses, potential, offset, want, useFast);
      let r = run(fast);
      let chosen = pick([...r.ok, ...r.violating]);
      if (chosen?.arithmetic) {
        const orig = snap.nodes[chosen.slot];
        if (!orig || !confirm(state, pod, orig, chosen.victims)) {
          stats.confirmFailed++;
          r = run(false);
          chosen = pick([...r.ok, ...r.violating]);
        }
      }
      if (!chosen) return fail(n, r.tried, r.reasons);
      return { result: { nominatedNodeName: chosen.node, victims: chosen.victims.slice() }, status: new Status("Success") };

      function fail(total: number, tried: number, reasons: Map<string, number>): { result: PostFilterResult | undefined; status: Status } {
        if (total - tried > 0) reasons.set(MSG_NOT_HELPFUL, (reasons.get(MSG_NOT_HELPFUL) ?? 0) + total - tried);
        return none(`0/${total} nodes are available: ${reasonHistogram(reasons)}.`, true);
      }
    },
  } satisfies DefaultPreemptionPlugin;

  function dryRun(state: CycleState, pod: PodInfo, snap: Snapshot, statuses: NodeStatusReader, potential: readonly number[], offset: number, want: number, fast: boolean):
    { ok: Candidate[]; violating: Candidate[]; tried: number; reasons: Map<string, number> } {
    const pdbs = handle.pdbs();
    const ok: Candidate[] = [], violating: Candidate[] = [];
    const reasons = new Map<string, number>();
    const shortCounts = new ShortCounts();
    const memoOn = fast && pod.scalarRequests.size === 0;
    if (memoOn) memo.begin(pod, pdbs, snap);
    let tried = 0;
    for (let k = 0; k < potential.length; k++) {
      const i = potential[(offset + k) % potential.length];
      if (i === undefined) continue;
      const orig = snap.nodes[i];
      if (!orig) continue;
      let out: DryRunOutcome | undefined;
      if (fast && statuses.resourcesOnly?.(i) === true) {
        const list = memoOn ? memo.nominated(i) : handle.nominatedPodsForNode(orig.name);
        // (the pod's own nomination does not count for it: kept outcomes assume it is not in the list)
        const keep = memoOn && (list.length === 0 || !list.some((p) => p.key === pod.key));
        out = keep ? memo.get(i, orig, list) : undefined;
        if (out !== undefined) stats.reused++;
        else {
          const counted = countedNominated(pod, list);
          if (counted) {
            out = byResources(pod, orig, i, counted, pdbs);
            if (keep) memo.set(i, orig, list, out);
          }
        }
      }
      if (out === undefined) {
        const res = selectVictims(state.clone(), pod, orig.clone(), pdbs);
        out = res instanceof Status ? res : candidate(orig.name, i, res.victims, res.violations, false);
      }
      if (typeof out === "number") {
        stats.rejected++;
        tried++;
        shortCounts.add(out);
        continue;
      }
      if (out instanceof Status) {
        tried++;
        for (const r of out.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
        continue;
      }
      (out.pdbViolations === 0 ? ok : violating).push(out);
      if (ok.length > 0 && ok.length + violating.length >= want) break;
    }
    shortCounts.into(reasons);
    // Ties between equally good candidates go to the lowest slot, whatever the scan's start.
    return { ok: bySlot(ok), violating: bySlot(violating), tried, reasons };
  }

  /** The resource-only outcome on `node` (slot `slot`) with the `counted` nominated pods. */
  function byResources(pod: PodInfo, node: NodeInfo, slot: number, counted: readonly PodInfo[], pdbs: readonly PdbInfo[]): DryRunOutcome {
    // Most nodes of a full cluster cannot make room at all: say so without building a dry run.
    const short = shortWithAllRemoved(pod, node, counted);
    if (short > 0) return short;
    const res = selectVictimsByResources(pod, node, counted, pdbs);
    return res instanceof Status ? res : candidate(node.name, slot, res.victims, res.violations, true);
  }
}
