/**
 * Acceptance: @kubernetes/client-node 1.4.0 (a client nobody here wrote) against a live server
 * with the generated kubeconfig: list, create, replace, delete pods and watch them.
 */
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTug, type TugProcess } from "./harness.ts";

let tug: TugProcess;
let kc: KubeConfig;
let core: CoreV1Api;
const NS = "client-node";

beforeAll(async () => {
  tug = await startTug({ apiOnly: true }); // the API's own behaviour, no controllers
  kc = new KubeConfig();
  kc.loadFromFile(tug.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await tug?.stop();
});

const pod = (name: string): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "demo" } },
  spec: { containers: [{ name: "main", image: "busybox:1.36", command: ["sleep", "3600"] }] },
});

interface Seen {
  type: string;
  name: string | undefined;
  rv: string | undefined;
}

describe("@kubernetes/client-node", () => {
  it("uses the kubeconfig context tugboat", () => {
    expect(kc.getCurrentContext()).toBe("tugboat");
    expect(kc.getCurrentCluster()?.server).toBe(tug.url);
  });

  it("lists and creates pods", async () => {
    const empty = await core.listNamespacedPod({ namespace: NS });
    expect(empty.items).toEqual([]);
    expect(empty.metadata?.resourceVersion).toMatch(/^\d+$/);

    const created = await core.createNamespacedPod({ namespace: NS, body: pod("p1") });
    expect(created.metadata?.name).toBe("p1");
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    // defaults applied by the server
    expect(created.spec?.restartPolicy).toBe("Always");
    expect(created.spec?.containers[0]?.terminationMessagePath).toBe("/dev/termination-log");
    expect(created.status?.phase).toBe("Pending");

    const list = await core.listNamespacedPod({ namespace: NS, labelSelector: "app=demo" });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(["p1"]);

    await expect(core.createNamespacedPod({ namespace: NS, body: pod("p1") })).rejects.toMatchObject({ code: 409 });
    await expect(core.readNamespacedPod({ namespace: NS, name: "nope" })).rejects.toMatchObject({ code: 404 });
  });

  it("watches pods: ADDED, MODIFIED, DELETED", async () => {
    const seen: Seen[] = [];
    let ended: unknown = "open";
    const watch = new Watch(kc);
    const list = await core.listNamespacedPod({ namespace: NS });
    const controller = await watch.watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: list.metadata?.resourceVersion ?? "0", allowWatchBookmarks: false },
      (type: string, obj: V1Pod) => {
        seen.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion });
      },
      (err: unknown) => {
        ended = err;
      },
    );
    try {
      const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (!pred()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; seen ${JSON.stringify(seen)}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const created = await core.createNamespacedPod({ namespace: NS, body: pod("p2") });
      await waitFor(() => seen.some((e) => e.type === "ADDED" && e.name === "p2"), "ADDED p2");
      expect(seen.find((e) => e.name === "p2")?.rv).toBe(created.metadata?.resourceVersion);

      const current = await core.readNamespacedPod({ namespace: NS, name: "p2" });
      current.metadata = { ...current.metadata, labels: { app: "demo", changed: "yes" } };
      const replaced = await core.replaceNamespacedPod({ namespace: NS, name: "p2", body: current });
      await waitFor(() => seen.some((e) => e.type === "MODIFIED" && e.name === "p2"), "MODIFIED p2");
      expect(seen.find((e) => e.type === "MODIFIED")?.rv).toBe(replaced.metadata?.resourceVersion);

      await core.deleteNamespacedPod({ namespace: NS, name: "p2", gracePeriodSeconds: 0 });
      await waitFor(() => seen.some((e) => e.type === "DELETED" && e.name === "p2"), "DELETED p2");
      expect(seen.filter((e) => e.name === "p2").map((e) => e.type)).toEqual(
        expect.arrayContaining(["ADDED", "MODIFIED", "DELETED"]),
      );
      expect(ended).toBe("open");
    } finally {
      controller.abort();
    }
    const after = await core.listNamespacedPod({ namespace: NS });
    expect(after.items.map((p) => p.metadata?.name)).toEqual(["p1"]);
  });
});
