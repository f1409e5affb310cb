/**
 * Node registration and heartbeats: the Node object (created, or its status and labels brought
 * up to date when it exists), the Lease `kube-node-lease/<node>` renewed every 10 s
 * (leaseDurationSeconds 40), and node status checked every 10 s but written only when something
 * changed or 5 minutes passed (upstream's nodeStatusUpdateFrequency / nodeStatusReportFrequency).
 * "Changed" covers the conditions and `status.images` (the runtime's images, node-images.ts); an
 * unchanged image list costs no write. When the runtime cannot list its images the last reported
 * list stays as it is.
 *
 * One `tick()` per period does both; the agent schedules it on the shared timer queue, so a
 * thousand idle agents cost one process timer.
 */
import { ApiError } from "../api/errors.ts";
import type { ResourceClient } from "../client/resource.ts";
import type { RuntimeService, RuntimeStatus } from "./runtime/types.ts";
import { internNodeImages, nodeImages, type NodeImage } from "./node-images.ts";
import { conditionsChanged, initialNode, nodeConditions, nodeLabels, staticNodeStatus, type NodeDescription } from "./node-status.ts";
import { rfc3339Micro, type LeaseObject, type NodeCondition, type NodeObject } from "./types.ts";

export const LEASE_NAMESPACE = "kube-node-lease";
export const DEFAULT_LEASE_DURATION_SECONDS = 40;
export const DEFAULT_STATUS_REPORT_MS = 5 * 60_000;

export interface HeartbeatOptions {
  readonly description: NodeDescription;
  readonly nodes: ResourceClient<NodeObject>;
  /** Lease client bound to kube-node-lease. */
  readonly leases: ResourceClient<LeaseObject>;
  readonly runtime: RuntimeService;
  readonly now: () => number;
  readonly leaseDurationSeconds?: number;
  /** Report status at least this often even when nothing changed (default 5 min). */
  readonly statusReportMs?: number;
  /** `status.images` limit (default 50, the kubelet's nodeStatusMaxImages; negative: no limit). */
  readonly maxImages?: number;
}

export interface HeartbeatStats {
  leaseRenewals: number;
  statusWrites: number;
  errors: number;
}

export class Heartbeat {
  readonly stats: HeartbeatStats = { leaseRenewals: 0, statusWrites: 0, errors: 0 };
  #node: NodeObject | undefined;
  #lease: LeaseObject | undefined;
  #lastReport = 0;
  #conditions: NodeCondition[] = [];
  /** The images last written (interned: shared with other agents reporting the same list). */
  #images: { readonly key: string; readonly images: readonly NodeImage[] } | undefined;

  constructor(private readonly o: HeartbeatOptions) {}

  get nodeUid(): string | undefined {
    return this.#node?.metadata?.uid;
  }

  async #runtimeStatus(): Promise<RuntimeStatus | undefined> {
    try {
      return await this.o.runtime.status();
    } catch {
      return undefined;
    }
  }

  async #runtimeImages(): Promise<{ readonly key: string; readonly images: readonly NodeImage[] } | undefined> {
    try {
      return internNodeImages(nodeImages(await this.o.runtime.listImages(), this.o.maxImages));
    } catch {
      return undefined;
    }
  }

  /** The last reported `status.images` (tests, cost checks). */
  get images(): readonly NodeImage[] | undefined {
    return this.#images?.images;
  }

  /** Creates the Node, or brings an existing one's labels and status up to date. */
  async register(): Promise<NodeObject> {
    const d = this.o.description;
    const rs = await this.#runtimeStatus();
    const imgs = await this.#runtimeImages();
    const now = this.o.now();
    try {
      const node = initialNode(d, rs, now);
      // The interned list is frozen and shared; the object body is only serialized.
      if (imgs !== undefined) node.status = { ...node.status, images: imgs.images as NonNullable<NonNullable<NodeObject["status"]>["images"]> };
      this.#node = await this.o.nodes.create(node);
      this.#conditions = this.#node.status?.conditions ?? [];
      if (imgs !== undefined) this.#images = imgs;
      this.#lastReport = now;
      this.stats.statusWrites++;
      return this.#node;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
    const existing = await this.o.nodes.get(d.nodeName);
    const labels = nodeLabels(d);
    const cur = existing.metadata?.labels ?? {};
    if (Object.entries(labels).some(([k, v]) => cur[k] !== v)) {
      await this.o.nodes.patch(d.nodeName, { metadata: { labels } }, "merge");
    }
    const annotations = d.annotations ?? {};
    const curAnn = existing.metadata?.annotations ?? {};
    if (Object.entries(annotations).some(([k, v]) => curAnn[k] !== v)) {
      await this.o.nodes.patch(d.nodeName, { metadata: { annotations } }, "merge");
    }
    this.#conditions = existing.status?.conditions ?? [];
    await this.#writeStatus(rs, imgs, now);
    return this.#node!;
  }

  async #writeStatus(rs: RuntimeStatus | undefined, imgs: { readonly key: string; readonly images: readonly NodeImage[] } | undefined, now: number): Promise<void> {
    const conditions = nodeConditions(rs, this.#conditions, now);
    const status = { ...staticNodeStatus(this.o.description), conditions, ...(imgs !== undefined ? { images: imgs.images } : {}) };
    this.#node = await this.o.nodes.patch(this.o.description.nodeName, { status }, "merge", { subresource: "status" });
    this.#conditions = this.#node.status?.conditions ?? conditions;
    if (imgs !== undefined) this.#images = imgs;
    this.#lastReport = now;
    this.stats.statusWrites++;
  }

  /** Checks the node status; writes it when it changed or the report period passed. */
  async syncNodeStatus(): Promise<boolean> {
    const now = this.o.now();
    const rs = await this.#runtimeStatus();
    const imgs = await this.#runtimeImages();
    const next = nodeConditions(rs, this.#conditions, now);
    const imagesChanged = imgs !== undefined && imgs.key !== this.#images?.key;
    if (!conditionsChanged(next, this.#conditions) && !imagesChanged && now - this.#lastReport < (this.o.statusReportMs ?? DEFAULT_STATUS_REPORT_MS)) return false;
    await this.#writeStatus(rs, imgs, now);
    return true;
  }

  /** Renews (or creates) the node's Lease. */
  async renewLease(): Promise<void> {
    const name = this.o.description.nodeName;
    const renewTime = rfc3339Micro(this.o.now());
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (this.#lease === undefined) {
          try {
            this.#lease = await this.o.leases.get(name);
          } catch (err) {
            if (!(err instanceof ApiError && err.code === 404)) throw err;
            this.#lease = await this.o.leases.create(this.#newLease(renewTime));
            this.stats.leaseRenewals++;
            return;
          }
        }
        const l = this.#lease;
        const uid = this.nodeUid;
        this.#lease = await this.o.leases.update({
          ...l,
          metadata: {
            ...l.metadata,
            ...(uid !== undefined && !(l.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)
              ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid }] } : {}),
          },
          spec: { ...l.spec, holderIdentity: name, leaseDurationSeconds: this.o.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS, renewTime },
        });
        this.stats.leaseRenewals++;
        return;
      } catch (err) {
        // Stale copy (409) or the lease vanished (404): re-read and try again.
        if (err instanceof ApiError && (err.code === 409 || err.code === 404)) {
          this.#lease = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  #newLease(renewTime: string): LeaseObject {
    const name = this.o.description.nodeName;
    const uid = this.nodeUid;
    return {
      apiVersion: "coordination.k8s.io/v1", kind: "Lease",
      metadata: { name, namespace: LEASE_NAMESPACE, ...(uid !== undefined ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid }] } : {}) },
      spec: { holderIdentity: name, leaseDurationSeconds: this.o.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS, renewTime },
    };
  }

  /** One heartbeat: lease renewal and node status check. Errors are counted and rethrown. */
  async tick(): Promise<void> {
    try {
      await this.renewLease();
      await this.syncNodeStatus();
    } catch (err) {
      this.stats.errors++;
      throw err;
    }
  }
}
