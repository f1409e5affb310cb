import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../object.ts";
import { decodeMessage, decodeObject, encodeMessage, encodeObject } from "./mod.ts";

function pod(i: number): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name: `web-${i}`, namespace: `team-${i % 7}`, uid: `0000-${i}`, resourceVersion: String(100 + i), creationTimestamp: "2026-11-22T10:00:00Z",
      labels: { app: `app-${i % 10}`, tier: "backend", "pod-template-hash": "5d9c7f8b6d" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u", controller: true }],
    },
    spec: {
      nodeName: `node-${i % 5}`, restartPolicy: "Always", dnsPolicy: "ClusterFirst", serviceAccountName: "default",
      tolerations: [{ key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }, { key: "b", operator: "Exists" }],
      containers: [
        { name: "main", image: `img:${i}`, ports: [{ containerPort: 8080, protocol: "TCP" }], env: [{ name: "A", value: "1" }, { name: "B", value: "2" }, { name: "C", value: "3" }] },
        { name: "side", image: "proxy:1", args: ["--x", "--y"] },
      ],
    },
    status: { phase: "Running", podIPs: [{ ip: "10.0.0.1" }], conditions: ["A", "B", "C"].map((type) => ({ type, status: "True" })) },
  };
}

describe("decoded objects", () => {
  it("are plain objects equal to the JSON form, keys in the same order", () => {
    for (let i = 0; i < 20; i++) {
      const o = pod(i);
      const back = decodeObject(encodeObject(o));
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
      expect(back.constructor).toBe(Object);
      expect(back).toStrictEqual(JSON.parse(JSON.stringify(back)));
      expect(JSON.parse(JSON.stringify(back))).toEqual(o);
      expect(structuredClone(back)).toStrictEqual(back);
      expect(Array.isArray((back["spec"] as { containers: unknown }).containers)).toBe(true);
    }
  });

  it("decodeMessage returns plain objects too, and arrays keep every element in order", () => {
    const spec = pod(3)["spec"] as object;
    const back = decodeMessage("k8s.io.api.core.v1.PodSpec", encodeMessage("k8s.io.api.core.v1.PodSpec", spec));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back).toStrictEqual(spec);
  });

  it("repeated short strings decode correctly whatever their slot in the string table", () => {
    // Many distinct short strings, some colliding in the intern table; each must come back exact.
    const values = Array.from({ length: 20_000 }, (_, i) => `v${i.toString(36)}-${"x".repeat(i % 40)}`);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "m" }, data: Object.fromEntries(values.map((v, i) => [`k${i}`, v])) };
    const back = decodeObject(encodeObject(cm)) as { data: Record<string, string> };
    expect(back.data).toEqual(cm.data);
    const again = decodeObject(encodeObject(cm)) as { data: Record<string, string> };
    expect(again.data).toEqual(back.data);
  });

  // Before compact allocation the same objects took ~1.7x JSON.parse's heap.
  it("take about the heap of the same objects from JSON.parse", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const N = 3000;
    const bufs = Array.from({ length: N }, (_, i) => encodeObject(pod(i)));
    const texts = bufs.map((b) => JSON.stringify(decodeObject(b)));
    const measure = (make: (i: number) => unknown): number => {
      gc(); gc();
      const h0 = process.memoryUsage().heapUsed;
      const keep = Array.from({ length: N }, (_, i) => make(i));
      gc(); gc();
      const used = process.memoryUsage().heapUsed - h0;
      expect(keep.length).toBe(N);
      return used / N;
    };
    // Smallest of three interleaved measurements each: a GC or allocation burst from elsewhere in
    // the process (vitest workers share nothing, but V8's own bookkeeping does) only ever adds.
    let json = Infinity, codec = Infinity;
    for (let r = 0; r < 3; r++) {
      json = Math.min(json, measure((i) => JSON.parse(texts[i]!)));
      codec = Math.min(codec, measure((i) => decodeObject(bufs[i]!)));
    }
    expect(codec).toBeLessThan(json * 1.2);
  });
});
