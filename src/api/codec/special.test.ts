import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import { decodeMessage, decodeObject, encodeMessage, encodeObject } from "./mod.ts";
import { Reader } from "./reader.ts";
import { base64Decode, base64Encode, formatDuration, parseDuration, parseTime, readDuration, writeDuration } from "./special.ts";
import { EncodeTypeError, Writer } from "./writer.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const META = "k8s.io.apimachinery.pkg.apis.meta.v1";

describe("Time", () => {
  it("RFC 3339 with second precision; offsets normalised to UTC", () => {
    expect(parseTime("2024-05-01T10:00:00Z")).toEqual({ seconds: 1714557600, nanos: 0 });
    expect(parseTime("2024-05-01T12:00:00+02:00")).toEqual({ seconds: 1714557600, nanos: 0 });
    expect(parseTime("2024-05-01T10:00:00.5Z")).toEqual({ seconds: 1714557600, nanos: 500_000_000 });
    const o = { lastTransitionTime: "2024-05-01T12:00:00+02:00", type: "Ready", status: "True" };
    const back = decodeMessage(`${META}.Condition`, encodeMessage(`${META}.Condition`, o));
    expect(back).toEqual({ type: "Ready", status: "True", lastTransitionTime: "2024-05-01T10:00:00Z" });
  });
  it("rejects non-RFC 3339 strings and non-strings with a 400 naming the field", () => {
    for (const bad of ["yesterday", "2024-05-01", 12]) {
      expect(() => parseTime(bad)).toThrow(EncodeTypeError);
    }
    let err: unknown;
    try {
      encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { creationTimestamp: "yesterday" } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(400);
    expect((err as ApiError).message).toContain("metadata.creationTimestamp");
  });
  it("an out-of-range time on the wire is a 400", () => {
    // ObjectMeta 8 creationTimestamp {1 seconds = 2^50}
    const meta = Uint8Array.from([0x42, 0x08, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(() => decodeMessage(`${META}.ObjectMeta`, meta)).toThrow(ApiError);
  });
});

describe("MicroTime", () => {
  it("keeps microseconds", () => {
    const ev = { apiVersion: "events.k8s.io/v1", kind: "Event", eventTime: "2024-05-01T10:00:00.123456Z" };
    expect(decodeObject(encodeObject(ev))).toEqual(ev);
  });
});

describe("Duration", () => {
  it("formats like Go's time.Duration", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(1.5e9)).toBe("1.5s");
    expect(formatDuration(3723e9)).toBe("1h2m3s");
    expect(formatDuration(3600e9)).toBe("1h0m0s");
    expect(formatDuration(5e5)).toBe("500µs");
    expect(formatDuration(-90e9)).toBe("-1m30s");
    expect(formatDuration(1)).toBe("1ns");
  });
  it("parses Go duration strings", () => {
    expect(parseDuration("1h2m3s")).toBe(3723e9);
    expect(parseDuration("1.5s")).toBe(1.5e9);
    expect(parseDuration("300ms")).toBe(3e8);
    expect(parseDuration("-2m")).toBe(-120e9);
    expect(parseDuration("0")).toBe(0);
    for (const bad of ["", "1", "1x", "h", 5]) expect(() => parseDuration(bad)).toThrow(EncodeTypeError);
  });
  it("travels as meta.v1.Duration {1 duration (ns)}", () => {
    const w = new Writer(8);
    writeDuration(w, "1.5s");
    // 1 duration = 1500000000 = varint 80 de a0 cb 05
    expect(hex(w.finish())).toBe("0880dea0cb05");
    expect(readDuration(new Reader(w.finish()), 6)).toBe("1.5s");
  });
});

describe("IntOrString", () => {
  it("int: type 0, intVal; string: type 1, strVal (all three fields written, as Go does)", () => {
    const port = (targetPort: number | string): string =>
      hex(encodeMessage("k8s.io.api.core.v1.ServicePort", { targetPort }));
    // ServicePort 4 targetPort {1 type 0, 2 intVal 8080, 3 strVal ""}
    expect(port(8080)).toBe("2207" + "0800" + "10903f" + "1a00");
    // {1 type 1, 2 intVal 0, 3 strVal "http"}
    expect(port("http")).toBe("220a" + "0801" + "1000" + "1a04" + Buffer.from("http").toString("hex"));
    for (const v of [8080, "http", 0]) {
      expect(decodeMessage("k8s.io.api.core.v1.ServicePort", encodeMessage("k8s.io.api.core.v1.ServicePort", { targetPort: v })))
        .toEqual({ targetPort: v });
    }
  });
  it("rejects other JSON types", () => {
    expect(() => encodeObject({ apiVersion: "v1", kind: "Service", spec: { ports: [{ targetPort: true }] } }))
      .toThrow(/spec\.ports\[0\]\.targetPort: expected integer or string/);
  });
});

describe("Quantity", () => {
  it("is its string; JSON numbers are accepted", () => {
    const rr = { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: 2 } };
    const b = encodeMessage("k8s.io.api.core.v1.ResourceRequirements", rr);
    // 1 limits entry {1 "cpu", 2 Quantity{1 "500m"}}: map keys sorted
    expect(hex(b).startsWith("0a0d" + "0a03" + Buffer.from("cpu").toString("hex") + "1206" + "0a04" + Buffer.from("500m").toString("hex"))).toBe(true);
    expect(decodeMessage("k8s.io.api.core.v1.ResourceRequirements", b)).toEqual({
      limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "2" },
    });
  });
});

describe("RawExtension and FieldsV1", () => {
  it("RawExtension carries the embedded JSON value", () => {
    const rev = { apiVersion: "apps/v1", kind: "ControllerRevision", data: { spec: { a: [1, "x", null] } }, revision: 2 };
    expect(decodeObject(encodeObject(rev))).toEqual(rev);
  });
  it("FieldsV1 carries a JSON object; anything else is a 400", () => {
    const mf = [{ manager: "kubectl", operation: "Update", fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:labels": {} } } }];
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", managedFields: mf } };
    expect(decodeObject(encodeObject(cm))).toEqual(cm);
    expect(() => encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { managedFields: [{ fieldsV1: "x" }] } }))
      .toThrow(/managedFields\[0\]\.fieldsV1/);
  });
  it("embedded bytes that are not JSON are a 400", () => {
    // ControllerRevision 2 data {1 raw "{"}
    const raw = Uint8Array.from([0x12, 0x03, 0x0a, 0x01, 0x7b]);
    expect(() => decodeMessage("k8s.io.api.apps.v1.ControllerRevision", raw)).toThrow(/embedded JSON/);
  });
});

describe("Verbs", () => {
  it("is a bare string array in JSON", () => {
    const list = { apiVersion: "v1", kind: "APIResourceList", groupVersion: "v1",
      resources: [{ name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get", "list"] }] };
    expect(decodeObject(encodeObject(list))).toEqual(list);
  });
});

describe("bytes", () => {
  it("are base64 strings in JSON (Secret data)", () => {
    const s = { apiVersion: "v1", kind: "Secret", data: { a: "aGVsbG8=", b: "", c: "AAEC/w==" } };
    expect(decodeObject(encodeObject(s))).toEqual(s);
    expect(base64Encode(base64Decode("aGk="))).toBe("aGk=");
    for (const bad of ["abc", "a===", "ab!=", 3]) expect(() => base64Decode(bad)).toThrow(EncodeTypeError);
    expect(() => encodeObject({ apiVersion: "v1", kind: "Secret", data: { a: "not base64" } })).toThrow(/data\[a\]|base64/);
  });
});

describe("encode type errors", () => {
  it("name the path and the expected type", () => {
    expect(() => encodeObject({ apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: "3" } }))
      .toThrow('cannot encode Deployment as protobuf: spec.replicas: expected int32, got string "3"');
    expect(() => encodeObject({ apiVersion: "v1", kind: "Pod", spec: { containers: {} } }))
      .toThrow("spec.containers: expected array, got object");
    const badLabels: unknown = { a: 1 }; // deliberately mistyped input
    expect(() => encodeObject({ apiVersion: "v1", kind: "Pod", metadata: { labels: badLabels as Record<string, string> } }))
      .toThrow("metadata.labels[a]: expected string, got number 1");
  });
  it("unknown apiVersion/kind is a 400 naming them", () => {
    expect(() => encodeObject({ apiVersion: "v9", kind: "Nope" })).toThrow(/"Nope".*"v9"/);
    expect(() => encodeObject({ kind: "Pod" })).toThrow(ApiError);
  });
});
