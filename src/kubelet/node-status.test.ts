import { describe, expect, it } from "vitest";
import { conditionsChanged, DEFAULT_CAPACITY, initialNode, isQuantity, nodeConditions, readyCondition } from "./node-status.ts";
import type { RuntimeStatus } from "./runtime/types.ts";

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const ok: RuntimeStatus = { conditions: [{ type: "RuntimeReady", status: true }, { type: "NetworkReady", status: true }] };
const noNet: RuntimeStatus = { conditions: [{ type: "RuntimeReady", status: true }, { type: "NetworkReady", status: false, reason: "NetworkPluginNotReady", message: "cni down" }] };

describe("node status", () => {
  it("builds the registered Node", () => {
    const n = initialNode({ nodeName: "n1", capacity: DEFAULT_CAPACITY, internalIP: "127.1.0.1", containerRuntimeVersion: "hollow://0.1.0", podCIDR: "10.64.1.0/24" }, ok, T0);
    expect(n.metadata?.labels).toMatchObject({ "kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux" });
    expect(n.status?.capacity).toEqual({ cpu: "4", "ephemeral-storage": "100Gi", memory: "8Gi", pods: "110" });
    expect(n.status?.allocatable).toEqual(n.status?.capacity);
    expect(n.spec).toEqual({ podCIDR: "10.64.1.0/24", podCIDRs: ["10.64.1.0/24"] });
    expect(n.status?.nodeInfo).toMatchObject({ kubeletVersion: "v1.32.0-tugboat", containerRuntimeVersion: "hollow://0.1.0", operatingSystem: "linux" });
    expect(n.status?.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`)).toEqual([
      "MemoryPressure=False:KubeletHasSufficientMemory", "DiskPressure=False:KubeletHasNoDiskPressure",
      "PIDPressure=False:KubeletHasSufficientPID", "Ready=True:KubeletReady",
    ]);
  });

  it("Ready follows the runtime; heartbeats move, transitions only on change", () => {
    expect(readyCondition(undefined)).toMatchObject({ status: "False", reason: "KubeletNotReady", message: "container runtime is down" });
    expect(readyCondition(noNet).message).toBe("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni down");
    const a = nodeConditions(ok, [], T0);
    const b = nodeConditions(ok, a, T0 + 10_000);
    expect(conditionsChanged(a, b)).toBe(false);
    expect(b[3]).toMatchObject({ lastHeartbeatTime: "2026-11-22T10:00:10Z", lastTransitionTime: "2026-11-22T10:00:00Z" });
    const c = nodeConditions(noNet, b, T0 + 20_000);
    expect(conditionsChanged(b, c)).toBe(true);
    expect(c[3]).toMatchObject({ status: "False", lastTransitionTime: "2026-11-22T10:00:20Z" });
    expect(c[0]?.lastTransitionTime).toBe("2026-11-22T10:00:00Z");
  });

  it("keeps conditions it does not own", () => {
    const other = { type: "NetworkUnavailable", status: "False", reason: "RouteCreated" };
    const c = nodeConditions(ok, [other], T0);
    expect(c[0]).toEqual(other);
    expect(c.length).toBe(5);
  });

  it("checks quantities", () => {
    expect(["4", "3500m", "8Gi", "1.5", "100G"].every(isQuantity)).toBe(true);
    expect(["", "4 cores", "-1", "8gb"].some(isQuantity)).toBe(false);
  });
});

describe("readyCondition and runtime limits", async () => {
  const { readyCondition } = await import("./node-status.ts");
  const conds = [{ type: "RuntimeReady" as const, status: true }, { type: "NetworkReady" as const, status: true }];
  it("says when cpu or memory limits cannot be applied", () => {
    expect(readyCondition({ conditions: conds }).message).toBe("kubelet is posting ready status");
    const rs = { conditions: conds, limits: { cpu: false, memory: true, message: "cpu limits cannot be applied (no cgroup v2)" } };
    expect(readyCondition(rs)).toEqual({ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status. cpu limits cannot be applied (no cgroup v2)" });
    const all = { conditions: conds, limits: { cpu: true, memory: true, message: "all applied" } };
    expect(readyCondition(all).message).toBe("kubelet is posting ready status");
  });
});
