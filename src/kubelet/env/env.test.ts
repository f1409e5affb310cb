import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import type { ContainerSpec, PodObject } from "../types.ts";
import { EnvError, expandArgs, isEnvVarName, makeEnvironment } from "./env.ts";
import { formatMap, podFieldValue, resourceFieldValue } from "./fieldpath.ts";
import { MapObjectSource, podReferences } from "./objects.ts";
import { serviceEnv } from "./services.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const node = { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30, ephemeralStorageBytes: 100 * 2 ** 30 };
const facts = { podIPs: ["127.10.0.5"], hostIPs: ["127.0.0.1"] };

function pod(container: ContainerSpec, extra: Record<string, unknown> = {}): PodObject {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "web", namespace: "ns1", uid: "u-1", labels: { app: "web", tier: "fe" }, annotations: { note: "a \"q\"" } },
    spec: { nodeName: "n1", serviceAccountName: "sa1", containers: [container], ...extra },
  } as PodObject;
}

function objects(): MapObjectSource {
  const src = new MapObjectSource();
  src.put("ConfigMap", { metadata: { name: "cfg", namespace: "ns1" }, data: { COLOR: "blue", "bad key": "x", "1st": "y", size: "L" } });
  src.put("Secret", { metadata: { name: "sec", namespace: "ns1" }, data: { PASSWORD: b64("hunter2") } });
  src.svc.push(
    { metadata: { name: "kubernetes", namespace: "default" }, spec: { clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP" }] } } as KubeObject,
    { metadata: { name: "redis-main", namespace: "ns1" }, spec: { clusterIP: "10.96.0.9", ports: [{ port: 6379 }, { name: "metrics", port: 9121, protocol: "TCP" }] } } as KubeObject,
    { metadata: { name: "headless", namespace: "ns1" }, spec: { clusterIP: "None", ports: [{ port: 80 }] } } as KubeObject,
    { metadata: { name: "other", namespace: "ns2" }, spec: { clusterIP: "10.96.0.7", ports: [{ port: 80 }] } } as KubeObject,
  );
  return src;
}

const env = (c: ContainerSpec, extra: Record<string, unknown> = {}, src = objects()) => {
  const p = pod({ name: "c", ...c }, extra);
  return makeEnvironment({ pod: p, container: p.spec!.containers![0]!, objects: src, facts, node });
};
const asMap = (r: { envs: { key: string; value: string }[] }) => Object.fromEntries(r.envs.map((e) => [e.key, e.value]));

describe("makeEnvironment", () => {
  it("values with $(VAR) expansion over earlier vars and service vars; $$ escapes", () => {
    const m = asMap(env({ env: [
      { name: "A", value: "one" }, { name: "B", value: "$(A)-two" }, { name: "C", value: "$$(A)" },
      { name: "D", value: "$(LATER)" }, { name: "LATER", value: "x" }, { name: "E", value: "$(REDIS_MAIN_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)" },
      { name: "EMPTY", value: "" },
    ] }));
    expect(m).toMatchObject({ A: "one", B: "one-two", C: "$(A)", D: "$(LATER)", E: "10.96.0.9:443", EMPTY: "" });
  });

  it("valueFrom configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef", () => {
    const m = asMap(env({
      resources: { limits: { cpu: "500m", memory: "64Mi" }, requests: { cpu: "250m", memory: "32Mi" } },
      env: [
        { name: "COLOR", valueFrom: { configMapKeyRef: { name: "cfg", key: "COLOR" } } },
        { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "PASSWORD" } } },
        ...["metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels['app']", "metadata.annotations['note']", "metadata.labels['none']",
          "spec.nodeName", "spec.serviceAccountName", "status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs"]
          .map((f, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath: f } } })),
        { name: "LCPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
        { name: "LCPUM", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
        { name: "RMEM", valueFrom: { resourceFieldRef: { resource: "requests.memory", divisor: "1Mi" } } },
        { name: "LMEM", valueFrom: { resourceFieldRef: { resource: "limits.memory" } } },
        { name: "LEPH", valueFrom: { resourceFieldRef: { resource: "limits.ephemeral-storage", divisor: "1Gi" } } },
      ],
    }));
    expect(m).toMatchObject({
      COLOR: "blue", PW: "hunter2", F0: "web", F1: "ns1", F2: "u-1", F3: "web", F4: "a \"q\"", F5: "", F6: "n1", F7: "sa1",
      F8: "127.10.0.5", F9: "127.10.0.5", F10: "127.0.0.1", F11: "127.0.0.1",
      LCPU: "1", LCPUM: "500", RMEM: "32", LMEM: String(64 << 20), LEPH: "100",
    });
  });

  it("envFrom with prefix; invalid keys skipped with a warning; env overrides envFrom", () => {
    const r = env({ envFrom: [{ configMapRef: { name: "cfg" }, prefix: "CFG_" }, { secretRef: { name: "sec" } }, { configMapRef: { name: "cfg" } }], env: [{ name: "size", value: "XL" }] });
    const m = asMap(r);
    expect(m).toMatchObject({ CFG_COLOR: "blue", CFG_size: "L", CFG_1st: "y", PASSWORD: "hunter2", COLOR: "blue", size: "XL" });
    expect(m["bad key"]).toBeUndefined();
    expect(r.warnings).toEqual([
      { reason: "InvalidEnvironmentVariableNames", message: "Keys [CFG_bad key] from the EnvFrom configMap ns1/cfg were skipped since they are considered invalid environment variable names." },
      { reason: "InvalidEnvironmentVariableNames", message: "Keys [1st, bad key] from the EnvFrom configMap ns1/cfg were skipped since they are considered invalid environment variable names." },
    ]);
  });

  it("missing objects and keys fail with upstream's texts unless optional", () => {
    const fails = (c: ContainerSpec): string => {
      try {
        env(c);
      } catch (err) {
        expect(err).toBeInstanceOf(EnvError);
        return (err as Error).message;
      }
      throw new Error("no error");
    };
    expect(fails({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "k" } } }] })).toBe('configmap "nope" not found');
    expect(fails({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }] })).toBe('secret "nope" not found');
    expect(fails({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "k" } } }] })).toBe("couldn't find key k in ConfigMap ns1/cfg");
    expect(fails({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "sec", key: "k" } } }] })).toBe("couldn't find key k in Secret ns1/sec");
    expect(fails({ envFrom: [{ configMapRef: { name: "nope" } }] })).toBe('configmap "nope" not found');
    expect(fails({ envFrom: [{ secretRef: { name: "nope" } }] })).toBe('secret "nope" not found');
    expect(fails({ env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.bogus" } } }] })).toBe("unsupported fieldPath: spec.bogus");
    expect(fails({ env: [{ name: "X", valueFrom: { resourceFieldRef: { resource: "limits.gpu" } } }] })).toBe("unsupported container resource : limits.gpu");
    expect(fails({ env: [{ name: "X", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "lots" } } }] })).toMatch(/invalid quantity "lots"/);
    const ok = asMap(env({
      envFrom: [{ configMapRef: { name: "nope", optional: true } }, { secretRef: { name: "nope", optional: true } }],
      env: [
        { name: "A", valueFrom: { configMapKeyRef: { name: "nope", key: "k", optional: true } } },
        { name: "B", valueFrom: { configMapKeyRef: { name: "cfg", key: "k", optional: true } } },
        { name: "C", valueFrom: { secretKeyRef: { name: "sec", key: "k", optional: true } } },
      ],
    }));
    expect(ok["A"]).toBeUndefined();
    expect(ok["B"]).toBeUndefined();
    expect(ok["C"]).toBeUndefined();
  });

  it("service links: namespace services with enableServiceLinks, kubernetes always", () => {
    const m = asMap(env({}));
    expect(m).toMatchObject({
      KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443", KUBERNETES_SERVICE_PORT_HTTPS: "443",
      KUBERNETES_PORT: "tcp://10.96.0.1:443", KUBERNETES_PORT_443_TCP: "tcp://10.96.0.1:443", KUBERNETES_PORT_443_TCP_PROTO: "tcp",
      KUBERNETES_PORT_443_TCP_PORT: "443", KUBERNETES_PORT_443_TCP_ADDR: "10.96.0.1",
      REDIS_MAIN_SERVICE_HOST: "10.96.0.9", REDIS_MAIN_SERVICE_PORT: "6379", REDIS_MAIN_SERVICE_PORT_METRICS: "9121",
      REDIS_MAIN_PORT: "tcp://10.96.0.9:6379", REDIS_MAIN_PORT_9121_TCP_ADDR: "10.96.0.9",
    });
    expect(Object.keys(m).some((k) => k.startsWith("HEADLESS") || k.startsWith("OTHER"))).toBe(false);
    const off = asMap(env({}, { enableServiceLinks: false }));
    expect(off["KUBERNETES_SERVICE_HOST"]).toBe("10.96.0.1");
    expect(off["REDIS_MAIN_SERVICE_HOST"]).toBeUndefined();
    // A variable the container sets itself wins over the service variable.
    expect(asMap(env({ env: [{ name: "KUBERNETES_SERVICE_HOST", value: "mine" }] }))["KUBERNETES_SERVICE_HOST"]).toBe("mine");
  });

  it("serviceEnv formats IPv6 addresses and skips services without ports", () => {
    expect(serviceEnv({ metadata: { name: "v6" }, spec: { clusterIP: "fd00::1", ports: [{ port: 80, protocol: "UDP" }] } } as KubeObject))
      .toContainEqual(["V6_PORT", "udp://[fd00::1]:80"]);
    expect(serviceEnv({ metadata: { name: "x" }, spec: { clusterIP: "10.0.0.1", ports: [] } } as KubeObject)).toEqual([]);
  });

  it("expands command and args", () => {
    expect(expandArgs(["echo", "$(A)", "$$(A)"], new Map([["A", "1"]]))).toEqual(["echo", "1", "$(A)"]);
    expect(expandArgs(undefined, new Map())).toBeUndefined();
  });
});

describe("downward API values", () => {
  const p = pod({ name: "c" });
  it("volume-only and env-only paths", () => {
    expect(podFieldValue(p, "metadata.labels", facts, true)).toBe('app="web"\ntier="fe"');
    expect(podFieldValue(p, "metadata.annotations", facts, true)).toBe('note="a \\"q\\""');
    expect(() => podFieldValue(p, "metadata.labels", facts)).toThrow("unsupported fieldPath: metadata.labels");
    expect(() => podFieldValue(p, "status.podIP", facts, true)).toThrow("unsupported fieldPath: status.podIP");
    expect(formatMap(undefined)).toBe("");
  });
  it("resource values round up", () => {
    const c: ContainerSpec = { name: "c", resources: { limits: { cpu: "1500m", memory: "1000" } } };
    expect(resourceFieldValue(c, "limits.cpu", "1", node)).toBe("2");
    expect(resourceFieldValue(c, "limits.memory", "1Ki", node)).toBe("1");
    expect(resourceFieldValue(c, "requests.cpu", "1m", node)).toBe("1500"); // requests default to the limit
    expect(resourceFieldValue({ name: "c" }, "limits.cpu", "1m", node)).toBe("4000"); // allocatable
    expect(resourceFieldValue({ name: "c" }, "requests.memory", "1", node)).toBe("0");
    expect(() => resourceFieldValue(c, "limits.cpu", "0", node)).toThrow("must be positive");
  });
  it("isEnvVarName", () => {
    for (const ok of ["A", "a.b", "-x", "_1", "x-y.z"]) expect(isEnvVarName(ok)).toBe(true);
    for (const bad of ["", "1a", "a b", "a=b", "ä"]) expect(isEnvVarName(bad)).toBe(false);
  });
});

describe("podReferences", () => {
  it("collects every ConfigMap and Secret once", () => {
    const p = pod({
      name: "c", env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "a", key: "k" } } }, { name: "B", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
      envFrom: [{ configMapRef: { name: "a" } }],
    }, { volumes: [{ name: "v", configMap: { name: "b" } }, { name: "w", secret: { secretName: "s2" } }, { name: "p", projected: { sources: [{ configMap: { name: "c" } }, { secret: { name: "s" } }] } }] });
    expect(podReferences(p).map((r) => `${r.kind}/${r.name}`).sort()).toEqual(["ConfigMap/a", "ConfigMap/b", "ConfigMap/c", "Secret/s", "Secret/s2"]);
  });
});

describe("resources", async () => {
  const { resourcesOf, podResourcesOf, quantityUnits } = await import("./resources.ts");
  it("cpu millis and memory bytes, rounded up", () => {
    expect(resourcesOf({ name: "c", resources: { limits: { cpu: "0.5", memory: "64Mi" }, requests: { cpu: "100m", memory: "1.5k" } } }))
      .toEqual({ cpuMillisLimit: 500, memoryBytesLimit: 64 * 2 ** 20, cpuMillisRequest: 100, memoryBytesRequest: 1500 });
    expect(quantityUnits("1n", "cpu")).toBe(1);
    expect(resourcesOf({ name: "c" })).toBeUndefined();
    expect(() => resourcesOf({ name: "c", resources: { limits: { memory: "lots" } } })).toThrow('invalid memory quantity "lots"');
  });
  it("pod sums: limits only when every container has one", () => {
    const p = { spec: { containers: [
      { name: "a", resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1" } } },
      { name: "b", resources: { limits: { cpu: "500m" }, requests: { cpu: "250m", memory: "1Mi" } } },
    ] } } as PodObject;
    expect(podResourcesOf(p)).toEqual({ cpuMillisLimit: 1500, cpuMillisRequest: 1250, memoryBytesRequest: 2 ** 20 });
    expect(podResourcesOf({ spec: { containers: [] } } as PodObject)).toBeUndefined();
  });
});
