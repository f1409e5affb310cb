/**
 * Byte-level goldens. Every expected vector is written out by hand from the field numbers in proto/
 * (comments name each field), so a codec bug cannot hide behind a round trip.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeObject, decodeWatchEvent, encodeMessage, encodeObject, encodeWatchEvent } from "./mod.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex"));
const ascii = (s: string): string => Buffer.from(s, "latin1").toString("hex");
/** Test input helper: tag byte(s) + length + body, all hex (only for inputs, never for expectations). */
const ld = (tag: string, body: string): string => tag + (body.length / 2).toString(16).padStart(2, "0") + body;
const envelope = (apiVersion: string, kind: string, raw: string): Uint8Array =>
  bytes("6b387300" + ld("0a", ld("0a", ascii(apiVersion)) + ld("12", ascii(kind))) + ld("12", raw));

describe("envelope", () => {
  it("is k8s\\0 + Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}", () => {
    const got = encodeObject({ apiVersion: "v1", kind: "ConfigMap" });
    expect(hex(got)).toBe(
      "6b387300" + //                          "k8s\0"
      "0a0f" + //                              1 typeMeta, 15 bytes
      "0a02" + ascii("v1") + //                  1 apiVersion "v1"
      "1209" + ascii("ConfigMap") + //           2 kind "ConfigMap"
      "1200" + //                              2 raw: empty ConfigMap
      "1a00" + //                              3 contentEncoding ""
      "2200", //                               4 contentType ""
    );
    expect(decodeObject(got)).toEqual({ apiVersion: "v1", kind: "ConfigMap" });
  });
});

describe("ObjectMeta", () => {
  const meta = {
    name: "web", namespace: "default", uid: "u1", resourceVersion: "5", generation: 2,
    creationTimestamp: "2024-05-01T10:00:00Z", labels: { app: "web" }, annotations: { a: "b" },
  };
  const expected =
    "0a03" + ascii("web") + //               1 name
    "1a07" + ascii("default") + //           3 namespace
    "2a02" + ascii("u1") + //                5 uid
    "3201" + ascii("5") + //                 6 resourceVersion
    "3802" + //                              7 generation = 2 (varint)
    "4208" + //                              8 creationTimestamp (Time), 8 bytes
    "08a0a5c8b106" + //                        1 seconds = 1714557600 (2024-05-01T10:00:00Z)
    "1000" + //                                2 nanos = 0
    "5a0a" + "0a03" + ascii("app") + "1203" + ascii("web") + // 11 labels entry {1 key, 2 value}
    "6206" + "0a01" + ascii("a") + "1201" + ascii("b"); //     12 annotations entry

  it("encodes field by field", () => {
    expect(hex(encodeMessage("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta", meta))).toBe(expected);
  });

  it("decodes back, in a ConfigMap envelope", () => {
    const body = envelope("v1", "ConfigMap", ld("0a", expected));
    expect(decodeObject(body)).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: meta });
  });

  it("drops zero values Go writes for omitempty fields and keeps keepZero ones", () => {
    // 1 name "", 2 generateName "", 7 generation 0, 8 creationTimestamp {} (zero time)
    const m = bytes("0a00 1200 3800 4200");
    const body = envelope("v1", "ConfigMap", ld("0a", hex(m)));
    expect(decodeObject(body)).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: {} });
  });
});

describe("Pod", () => {
  const pod = {
    apiVersion: "v1", kind: "Pod", metadata: { name: "p" },
    spec: { containers: [{ name: "c", image: "nginx", ports: [{ containerPort: 80 }] }], restartPolicy: "Always" },
  };
  const container =
    "0a01" + ascii("c") + //                 Container 1 name
    "1205" + ascii("nginx") + //             Container 2 image
    "3202" + "1850"; //                      Container 6 ports: ContainerPort 3 containerPort = 80
  const spec =
    "120e" + container + //                  PodSpec 2 containers (14 bytes)
    "1a06" + ascii("Always"); //             PodSpec 3 restartPolicy
  const raw =
    "0a03" + "0a01" + ascii("p") + //        Pod 1 metadata: ObjectMeta 1 name
    "1218" + spec; //                        Pod 2 spec (24 bytes)
  const expected =
    "6b387300" +
    "0a09" + "0a02" + ascii("v1") + "1203" + ascii("Pod") + // typeMeta
    "121f" + raw + //                        raw (31 bytes)
    "1a00" + "2200";

  it("encodes to the hand-derived bytes", () => {
    expect(hex(encodeObject(pod))).toBe(expected);
  });

  it("decodes them back (containerPort is keepZero-irrelevant here; values equal)", () => {
    expect(decodeObject(bytes(expected))).toEqual(pod);
  });

  it("keeps a zero containerPort (keepZero) but drops a zero hostPort (omitempty)", () => {
    // ContainerPort: 2 hostPort = 0, 3 containerPort = 0
    const port = "1000" + "1800";
    const c = "0a01" + ascii("c") + ld("32", port);
    const body = envelope("v1", "Pod", ld("12", ld("12", c)));
    expect(decodeObject(body)).toEqual({
      apiVersion: "v1", kind: "Pod", spec: { containers: [{ name: "c", ports: [{ containerPort: 0 }] }] },
    });
  });
});

describe("Deployment", () => {
  // Needs proto/k8s.io/api/apps/v1 (DeploymentSpec: 1 replicas, 2 selector, 3 template).
  const dep = {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx" }] } },
    },
  };
  const entry = "0a03" + ascii("app") + "1203" + ascii("web"); // map entry {1 key, 2 value}: 10 bytes
  const expectedRaw =
    "0a05" + "0a03" + ascii("web") + //             1 metadata {1 name}
    "1232" + //                                     2 spec (50 bytes)
    "0803" + //                                       1 replicas = 3
    "120c" + "0a0a" + entry + //                      2 selector (12) {1 matchLabels entry (10)}
    "1a20" + //                                       3 template (32 bytes)
    "0a0c" + "5a0a" + entry + //                        1 metadata (12) {11 labels entry (10)}
    "1210" + "120e" + //                                2 spec (16) {2 containers (14)}
    "0a05" + ascii("nginx") + "1205" + ascii("nginx"); //   Container 1 name, 2 image

  it("encodes to the hand-derived bytes", () => {
    const got = encodeObject(dep);
    expect(hex(got)).toBe(
      "6b387300" + "0a15" + "0a07" + ascii("apps/v1") + "120a" + ascii("Deployment") +
      "123b" + expectedRaw + "1a00" + "2200",
    );
    expect(decodeObject(got)).toEqual(dep);
  });

  it("keeps replicas: 0 (a pointer in Go, keepZero here)", () => {
    const body = encodeObject({ apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: 0 } });
    expect(hex(body)).toContain("12020800"); // raw: 2 spec {1 replicas = 0}
    expect(decodeObject(body)).toEqual({ apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: 0 } });
  });
});

describe("kubectl 1.32 create deployment body", () => {
  const log = readFileSync(new URL("../../../../shared/reference/kubectl/logs/08.create-deployment.jsonl", import.meta.url), "utf8");
  const req = log.trim().split("\n").map((l) => JSON.parse(l) as { body?: { base64?: string }; method?: string })
    .find((r) => r.method === "POST" && r.body?.base64);

  it("decodes to the Deployment kubectl meant", () => {
    const body = new Uint8Array(Buffer.from(req!.body!.base64!, "base64"));
    expect(decodeObject(body)).toEqual({
      apiVersion: "apps/v1", kind: "Deployment",
      metadata: { name: "web", labels: { app: "web" } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "nginx", image: "nginx", resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    });
  });
});

describe("watch frame", () => {
  it("is a 4-byte big-endian length + WatchEvent{1 type, 2 RawExtension{1 raw}}", () => {
    const obj = encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } });
    // obj: 6b387300 0a0f(...17 bytes typeMeta) 1205 0a03 0a0178 1a00 2200 -> 4+17+7+4 = 32 bytes
    expect(obj.length).toBe(32);
    const frame = encodeWatchEvent("ADDED", obj);
    expect(hex(frame)).toBe(
      "0000002b" + //                           length 43 = 7 + 36
      "0a05" + ascii("ADDED") + //              1 type
      "1222" + "0a20" + hex(obj), //            2 object (34 bytes): 1 raw (32 bytes)
    );
    expect(decodeWatchEvent(frame)).toEqual({
      type: "ADDED", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } },
    });
  });
});
