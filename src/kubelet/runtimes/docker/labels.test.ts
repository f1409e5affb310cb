import { describe, expect, it } from "vitest";
import { containerLabels, L, pushdownFilters, sandboxLabels } from "./labels.ts";
import { programProbeKey } from "./runtime.ts";

const POD = { name: "web", namespace: "default", uid: "u-1", attempt: 0 };

describe("label selector pushdown", () => {
  it("maps the identity keys to Docker label filters and ignores the rest", () => {
    expect(pushdownFilters(undefined)).toEqual([]);
    expect(pushdownFilters({ app: "x" })).toEqual([]);
    expect(pushdownFilters({ "io.kubernetes.pod.uid": "u-1", app: "x", "io.kubernetes.container.name": "c" })).toEqual([
      `${L.podUid}=u-1`,
      `${L.containerName}=c`,
    ]);
    expect(pushdownFilters({ "io.kubernetes.pod.name": "web", "io.kubernetes.pod.namespace": "ns" })).toEqual([`${L.podName}=web`, `${L.podNamespace}=ns`]);
  });

  it("marks a sandbox whose CRI labels disagree with its identity, and only then", () => {
    const base = { metadata: POD, annotations: {}, hostname: "web" };
    const kubelet = sandboxLabels("s", { ...base, labels: { "io.kubernetes.pod.uid": "u-1", "io.kubernetes.pod.name": "web", app: "x" } }, { hostname: "web" }, 1);
    expect(kubelet[L.labelMismatch]).toBeUndefined();
    const none = sandboxLabels("s", { ...base, labels: {} }, { hostname: "web" }, 1);
    expect(none[L.labelMismatch]).toBeUndefined();
    const odd = sandboxLabels("s", { ...base, labels: { "io.kubernetes.pod.uid": "other" } }, { hostname: "web" }, 1);
    expect(odd[L.labelMismatch]).toBe("1");
    // A sandbox carries no container name identity: a CRI label of that key is a mismatch too.
    const cname = sandboxLabels("s", { ...base, labels: { "io.kubernetes.container.name": "c" } }, { hostname: "web" }, 1);
    expect(cname[L.labelMismatch]).toBe("1");
  });

  it("marks an app container whose CRI labels disagree with its identity", () => {
    const info = { image: "busybox", mounts: [], tty: false };
    const c = (labels: Record<string, string>) => containerLabels("s", "sb", POD, { metadata: { name: "c", attempt: 0 }, labels, annotations: {} }, info, 1);
    expect(c({ "io.kubernetes.container.name": "c", "io.kubernetes.pod.uid": "u-1" })[L.labelMismatch]).toBeUndefined();
    expect(c({ "io.kubernetes.container.name": "other" })[L.labelMismatch]).toBe("1");
    expect(c({ "io.kubernetes.pod.namespace": "kube-system" })[L.labelMismatch]).toBe("1");
  });
});

describe("programProbeKey", () => {
  it("differs by image, command, args, working dir, PATH and mount targets; not by other env or mount order", () => {
    const k = (img: string, body: Parameters<typeof programProbeKey>[1], mounts: string[] = []) => programProbeKey(img, body, mounts);
    const base = k("sha256:a", { Entrypoint: ["sleep"], Cmd: ["1"] });
    expect(k("sha256:b", { Entrypoint: ["sleep"], Cmd: ["1"] })).not.toBe(base);
    expect(k("sha256:a", { Entrypoint: ["sh"], Cmd: ["1"] })).not.toBe(base);
    expect(k("sha256:a", { Cmd: ["sleep", "1"] })).not.toBe(base);
    expect(k("sha256:a", { Entrypoint: ["sleep"], Cmd: ["1"], WorkingDir: "/w" })).not.toBe(base);
    expect(k("sha256:a", { Entrypoint: ["sleep"], Cmd: ["1"], Env: ["PATH=/opt"] })).not.toBe(base);
    expect(k("sha256:a", { Entrypoint: ["sleep"], Cmd: ["1"] }, ["/bin"])).not.toBe(base);
    expect(k("sha256:a", { Entrypoint: ["sleep"], Cmd: ["1"], Env: ["A=1"] })).toBe(base);
    expect(k("sha256:a", { Entrypoint: ["sleep"] }, ["/x", "/y"])).toBe(k("sha256:a", { Entrypoint: ["sleep"] }, ["/y", "/x"]));
  });
});
