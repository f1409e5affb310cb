import { describe, expect, it } from "vitest";
import type { KubeObject } from "../object.ts";
import { decodeObject, encodeObject } from "./mod.ts";
import { planStamp, stampEnvelope, stampedRawLength, writeStampedRaw } from "./stamp.ts";

function pod(i: number, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name: `p${i}`, namespace: "default", uid: `u-${i}`, generation: 2, creationTimestamp: "2026-11-22T10:00:00Z",
      labels: { app: "x" }, annotations: { a: "b".repeat(i) }, finalizers: ["f"], ...meta,
    },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "i".repeat(200 + i) }] },
    status: { phase: "Running" },
  };
}

const withRv = (o: KubeObject, rv: string): KubeObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: rv } });

describe("stampEnvelope", () => {
  it("is byte-identical to encodeObject with the resourceVersion set", () => {
    const cases: KubeObject[] = [
      pod(1), pod(150), pod(3, { uid: undefined }), pod(4, { generation: undefined, creationTimestamp: undefined, labels: undefined, annotations: undefined, finalizers: undefined }),
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "only-a-name" } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: {} },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "ns", labels: { a: "b" } }, spec: { replicas: 3 } },
    ];
    for (const o of cases) {
      for (const rv of ["1", "42", "9007199254740991", "1".repeat(130)]) {
        const stored = encodeObject(o);
        const plan = planStamp(stored);
        expect(plan).toBeDefined();
        const stamped = stampEnvelope(stored, plan!, rv);
        expect(Buffer.from(stamped).equals(Buffer.from(encodeObject(withRv(o, rv))))).toBe(true);
        expect(decodeObject(stamped).metadata?.resourceVersion).toBe(rv);
      }
    }
  });

  it("writes the raw message at an offset with the announced length", () => {
    const stored = encodeObject(pod(7));
    const plan = planStamp(stored)!;
    const rv = new TextEncoder().encode("12345");
    const out = new Uint8Array(3 + stampedRawLength(plan, rv.length) + 2);
    const end = writeStampedRaw(out, 3, stored, plan, rv);
    expect(end).toBe(out.length - 2);
  });

  it("declines what it cannot stamp", () => {
    expect(planStamp(new TextEncoder().encode('{"kind":"Pod"}'))).toBeUndefined();
    expect(planStamp(new Uint8Array([0x6b, 0x38, 0x73]))).toBeUndefined();
    // resourceVersion already present
    expect(planStamp(encodeObject(withRv(pod(1), "5")))).toBeUndefined();
    // truncated / malformed envelope
    const good = encodeObject(pod(2));
    expect(planStamp(good.subarray(0, good.length - 30))).toBeUndefined();
    // a kind without ObjectMeta as field 1 (Status has ListMeta)
    expect(planStamp(encodeObject({ apiVersion: "v1", kind: "Status", metadata: {}, status: "Failure", code: 404 }))).toBeUndefined();
    // content encoding set
    const enc = Uint8Array.from([...good.subarray(0, good.length - 4), 0x1a, 0x04, 0x67, 0x7a, 0x69, 0x70, 0x22, 0x00]);
    expect(planStamp(enc)).toBeUndefined();
  });
});
