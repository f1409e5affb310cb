// This file imports wire.ts and never mod.ts: vitest runs each test file in its own module graph,
// so no schema-based path finder is registered here, as in the node agent.
import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import { decodeObject, encodeObject, hasProto, setTypeErrorFinder } from "./wire.ts";

describe("wire codec without the schema table", () => {
  const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: "3" } };

  it("round-trips objects", () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "c", image: "busybox" }] } };
    expect(hasProto("v1", "Pod")).toBe(true);
    expect(decodeObject(encodeObject(pod))).toEqual(pod);
  });

  it("reports an encode type error without a path when no finder is registered", () => {
    let err: unknown;
    try {
      encodeObject(deployment);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status.code).toBe(400);
    expect((err as ApiError).message).toBe('cannot encode Deployment as protobuf: expected int32, got string "3"');
  });

  it("names the path through a registered finder (mod.ts registers the schema-based one)", () => {
    setTypeErrorFinder((fq, obj) => `${fq} ${typeof obj}: found it`);
    try {
      expect(() => encodeObject(deployment)).toThrow("cannot encode Deployment as protobuf: k8s.io.api.apps.v1.Deployment object: found it");
      // a finder that finds nothing leaves the encoder's message
      setTypeErrorFinder(() => undefined);
      expect(() => encodeObject(deployment)).toThrow('cannot encode Deployment as protobuf: expected int32, got string "3"');
    } finally {
      setTypeErrorFinder(() => undefined);
    }
  });
});
