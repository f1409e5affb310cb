/**
 * The scheduler cache: what informers report plus what the scheduler has assumed. Contract
 * (kube-scheduler's cache state machine):
 *
 *   assumePod → (finishBinding → [expire after ttl]) | forgetPod
 *   assumed + addPod (informer confirms) → added;  addPod without assume → added
 *   added → updatePod / removePod
 *
 * Every change bumps the node's generation and marks it dirty; `updateSnapshot` copies only the
 * dirty nodes into the snapshot (and its kernel). Errors: `Error` with a message naming the pod for
 * impossible transitions (assume twice, forget an unknown pod).
 */
import type { Node, Pod } from "../../api/generated/core_v1.ts";
import type { Labels } from "../../api/selectors/labels.ts";
import type { Clock } from "../clock.ts";
import { newPodInfo, type PodInfo, podKey } from "../types.ts";
import { NodeInfo } from "./node_info.ts";
import type { Snapshot } from "./snapshot.ts";

interface PodState {
  info: PodInfo;
  nodeName: string;
  /** Set once binding finished for an assumed pod: expiry deadline in ms (Infinity = never). */
  deadline: number | undefined;
}

export interface CacheOptions {
  readonly clock: Clock;
  /** Assumed pods whose binding finished but that informers never confirmed expire after this (ms; 0 = never). Default 15 min. */
  readonly assumedPodTtlMs?: number;
  /** Extended resources tracked by the kernel (index order). */
  readonly extendedResources?: readonly string[];
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly podStates = new Map<string, PodState>();
  private readonly assumed = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly namespaces = new Map<string, Labels>();
  private generation = 0;
  private readonly ttl: number;
  readonly extendedResources: readonly string[];

  constructor(private readonly opts: CacheOptions) {
    this.ttl = opts.assumedPodTtlMs ?? 15 * 60_000;
    this.extendedResources = opts.extendedResources ?? [];
  }

  /** Parses a pod with this cache's extended resource list. */
  podInfo(pod: Pod): PodInfo {
    return newPodInfo(pod, this.extendedResources);
  }

  // ---- nodes ----

  addNode(node: Node): void {
    const name = node.metadata?.name ?? "";
    let ni = this.nodes.get(name);
    if (!ni) { ni = new NodeInfo(name); this.nodes.set(name, ni); }
    ni.setNode(node);
    this.touch(ni);
  }
  updateNode(_old: Node, node: Node): void { this.addNode(node); }
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? "";
    const ni = this.nodes.get(name);
    if (!ni) return;
    // Pods may still be reported on a deleted node; keep a node-less NodeInfo for them.
    if (ni.pods.length === 0) this.nodes.delete(name);
    else { ni.node = undefined; ni.generation = ++this.generation; }
    this.dirty.add(name);
  }
  nodeCount(): number {
    let n = 0;
    for (const ni of this.nodes.values()) if (ni.node) n++;
    return n;
  }
  getNode(name: string): NodeInfo | undefined { return this.nodes.get(name); }

  // ---- namespaces (for namespaceSelector in affinity terms) ----

  setNamespace(name: string, labels: Labels | undefined): void {
    if (labels === undefined) this.namespaces.delete(name); else this.namespaces.set(name, labels);
  }
  namespaceLabels = (ns: string): Labels | undefined => this.namespaces.get(ns);

  // ---- pods ----

  /** Marks a scheduled-but-unbound pod as running on `nodeName`. Throws if it is already known. */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.podStates.has(info.key)) throw new Error(`pod ${info.key} is in the cache, so can't be assumed`);
    this.placeOn(info, nodeName);
    this.podStates.set(info.key, { info, nodeName, deadline: undefined });
    this.assumed.add(info.key);
  }

  /** Binding finished: the assumption may now expire if informers never confirm it. */
  finishBinding(key: string): void {
    const s = this.podStates.get(key);
    if (!s || !this.assumed.has(key)) return;
    s.deadline = this.ttl > 0 ? this.opts.clock.now() + this.ttl : Infinity;
  }

  /** Drops an assumption (binding failed). Throws if the pod is not assumed. */
  forgetPod(key: string): void {
    const s = this.podStates.get(key);
    if (!s || !this.assumed.has(key)) throw new Error(`pod ${key} wasn't assumed so cannot be forgotten`);
    this.unplace(s);
    this.podStates.delete(key);
    this.assumed.delete(key);
  }

  isAssumed(key: string): boolean { return this.assumed.has(key); }
  /** The parsed pod the cache holds for `key` (assumed or added), if any. */
  knownPodInfo(key: string): PodInfo | undefined { return this.podStates.get(key)?.info; }
  /** The node a known (assumed or added) pod is on. */
  podNode(key: string): string | undefined { return this.podStates.get(key)?.nodeName; }

  /** An assigned pod reported by the informer (confirms an assumption if there was one). */
  addPod(pod: Pod): void {
    this.addPodInfo(this.podInfo(pod));
  }

  /** `addPod` with the pod already parsed (by this cache's `podInfo`). */
  addPodInfo(info: PodInfo): void {
    const nodeName = info.nodeName;
    const s = this.podStates.get(info.key);
    if (s && this.assumed.has(info.key)) {
      this.unplace(s);
      this.assumed.delete(info.key);
    } else if (s) {
      this.unplace(s);
    }
    this.placeOn(info, nodeName);
    this.podStates.set(info.key, { info, nodeName, deadline: undefined });
  }

  updatePod(_old: Pod, pod: Pod): void { this.addPod(pod); }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const s = this.podStates.get(key);
    if (!s) return;
    this.unplace(s);
    this.podStates.delete(key);
    this.assumed.delete(key);
  }

  /** Drops assumed pods whose binding finished more than ttl ago; returns their keys. */
  cleanupExpiredAssumedPods(): string[] {
    const now = this.opts.clock.now();
    const out: string[] = [];
    for (const key of this.assumed) {
      const s = this.podStates.get(key);
      if (!s || s.deadline === undefined || now < s.deadline) continue;
      this.unplace(s);
      this.podStates.delete(key);
      this.assumed.delete(key);
      out.push(key);
    }
    return out;
  }

  /** Brings `snap` (and its kernel) up to date with O(changed nodes) work. */
  updateSnapshot(snap: Snapshot): void {
    for (const name of this.dirty) {
      const ni = this.nodes.get(name);
      if (ni?.node) snap.upsert(ni.clone());
      else snap.remove(name);
    }
    this.dirty.clear();
    snap.generation = this.generation;
  }

  private touch(ni: NodeInfo): void {
    ni.generation = ++this.generation;
    this.dirty.add(ni.name);
  }

  private placeOn(info: PodInfo, nodeName: string): void {
    let ni = this.nodes.get(nodeName);
    if (!ni) { ni = new NodeInfo(nodeName); this.nodes.set(nodeName, ni); }
    ni.addPod(info);
    this.touch(ni);
  }

  private unplace(s: PodState): void {
    const ni = this.nodes.get(s.nodeName);
    if (!ni) return;
    ni.removePod(s.info.key);
    if (!ni.node && ni.pods.length === 0) { this.nodes.delete(ni.name); this.dirty.add(ni.name); return; }
    this.touch(ni);
  }
}
