/** node.status.images: the pure list, interning, and the heartbeat writing it only on change. */
import { describe, expect, it } from "vitest";
import type { ResourceClient } from "../client/resource.ts";
import { Heartbeat } from "./heartbeat.ts";
import { internNodeImages, MAX_NAMES_PER_IMAGE, NODE_STATUS_MAX_IMAGES, nodeImages, nodeImagesKey } from "./node-images.ts";
import { DEFAULT_CAPACITY } from "./node-status.ts";
import type { Image } from "./runtime/types.ts";
import { HollowHost, HollowRuntime } from "./runtimes/hollow/mod.ts";
import type { LeaseObject, NodeObject } from "./types.ts";

const img = (id: string, size: number, tags: string[], digests: string[] = []): Image => ({ id: `sha256:${id.padEnd(64, "0")}`, repoTags: tags, repoDigests: digests, size });

describe("nodeImages", () => {
  it("digests then tags, at most 5 names, largest first, ties by id", () => {
    const list = nodeImages([
      img("a", 10, ["docker.io/library/busybox:latest"], ["docker.io/library/busybox@sha256:1"]),
      img("b", 30, ["t1", "t2", "t3", "t4", "t5", "t6"], ["d1"]),
      img("d", 20, ["x"]),
      img("c", 20, ["y"]),
      img("e", 5, []),
    ]);
    expect(list).toEqual([
      { names: ["d1", "t1", "t2", "t3", "t4"], sizeBytes: 30 },
      { names: ["y"], sizeBytes: 20 },
      { names: ["x"], sizeBytes: 20 },
      { names: ["docker.io/library/busybox@sha256:1", "docker.io/library/busybox:latest"], sizeBytes: 10 },
      { names: [], sizeBytes: 5 },
    ]);
    expect(list[0]!.names).toHaveLength(MAX_NAMES_PER_IMAGE);
  });

  it("caps at 50 (the kubelet's nodeStatusMaxImages) keeping the largest; a negative cap keeps all", () => {
    const many = Array.from({ length: 80 }, (_, i) => img(String(i), 1000 + i, [`img-${i}`]));
    const list = nodeImages(many);
    expect(list).toHaveLength(NODE_STATUS_MAX_IMAGES);
    expect(list[0]).toEqual({ names: ["img-79"], sizeBytes: 1079 });
    expect(list[49]).toEqual({ names: ["img-30"], sizeBytes: 1030 });
    expect(nodeImages(many, -1)).toHaveLength(80);
    expect(nodeImages(many, 0)).toEqual([]);
  });

  it("interns equal lists into one frozen shared array", () => {
    const a = internNodeImages(nodeImages([img("a", 1, ["x"])]));
    const b = internNodeImages(nodeImages([img("a", 1, ["x"])]));
    expect(b.images).toBe(a.images);
    expect(Object.isFrozen(a.images) && Object.isFrozen(a.images[0]) && Object.isFrozen(a.images[0]!.names)).toBe(true);
    expect(a.key).toBe(nodeImagesKey(a.images));
    expect(internNodeImages(nodeImages([img("a", 2, ["x"])])).images).not.toBe(a.images);
  });
});

/** In-memory Node/Lease clients recording writes (only the methods Heartbeat calls). */
function fakeClients(): { nodes: ResourceClient<NodeObject>; leases: ResourceClient<LeaseObject>; writes: NodeObject[]; node: () => NodeObject | undefined } {
  let node: NodeObject | undefined;
  const writes: NodeObject[] = [];
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) {
      const cur = out[k];
      out[k] = v !== null && typeof v === "object" && !Array.isArray(v) && cur !== null && typeof cur === "object" && !Array.isArray(cur)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
    }
    return out;
  };
  const nodes = {
    create: async (n: NodeObject) => {
      node = JSON.parse(JSON.stringify({ ...n, metadata: { ...n.metadata, uid: "u1" } })) as NodeObject;
      writes.push(node);
      return node;
    },
    get: async () => node!,
    patch: async (_name: string, patch: unknown) => {
      node = JSON.parse(JSON.stringify(merge(node as Record<string, unknown>, patch as Record<string, unknown>))) as NodeObject;
      writes.push(node);
      return node;
    },
  };
  let lease: LeaseObject | undefined;
  const leases = {
    get: async () => lease!,
    create: async (l: LeaseObject) => (lease = l),
    update: async (l: LeaseObject) => (lease = l),
  };
  // The fakes implement the few methods Heartbeat uses; ResourceClient is a class, hence the casts.
  return { nodes: nodes as unknown as ResourceClient<NodeObject>, leases: leases as unknown as ResourceClient<LeaseObject>, writes, node: () => node };
}

describe("heartbeat reports status.images", () => {
  it("on registration, on change, and not again while unchanged", async () => {
    const host = new HollowHost({ preloadedImages: ["busybox"] });
    const runtime = new HollowRuntime(host);
    const f = fakeClients();
    let now = 1_000_000;
    const hb = new Heartbeat({
      description: { nodeName: "n1", capacity: DEFAULT_CAPACITY, internalIP: "127.0.0.1", containerRuntimeVersion: "hollow://0.1.0" },
      nodes: f.nodes, leases: f.leases, runtime, now: () => now,
    });
    await hb.register();
    expect(f.node()?.status?.images).toEqual([{ names: ["docker.io/library/busybox:latest"], sizeBytes: expect.any(Number) }]);
    const writes = f.writes.length;
    now += 10_000;
    expect(await hb.syncNodeStatus()).toBe(false);
    expect(f.writes.length).toBe(writes);

    await runtime.pullImage({ image: "hollow/sleep" });
    now += 10_000;
    expect(await hb.syncNodeStatus()).toBe(true);
    const names = (f.node()?.status?.images ?? []).flatMap((i) => i.names ?? []);
    expect(names.sort()).toEqual(["docker.io/hollow/sleep:latest", "docker.io/library/busybox:latest"]);
    const sizes = (f.node()?.status?.images ?? []).map((i) => i.sizeBytes ?? 0);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    now += 10_000;
    expect(await hb.syncNodeStatus()).toBe(false);

    // A second node with the same images shares the reported array.
    const f2 = fakeClients();
    const hb2 = new Heartbeat({
      description: { nodeName: "n2", capacity: DEFAULT_CAPACITY, internalIP: "127.0.0.2", containerRuntimeVersion: "hollow://0.1.0" },
      nodes: f2.nodes, leases: f2.leases, runtime: new HollowRuntime(new HollowHost({ preloadedImages: ["busybox", "hollow/sleep"] })), now: () => now,
    });
    await hb2.register();
    expect(hb2.images).toBe(hb.images);
    await runtime.close();
  });
});
