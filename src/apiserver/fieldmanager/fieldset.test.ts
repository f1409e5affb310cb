import { describe, expect, it } from "vitest";
import { DEPLOYMENT, POD, deploymentConfig, podConfig } from "./_fixtures.ts";
import { fieldSetOf } from "./fieldset.ts";
import { pathString, toFieldsV1 } from "./fieldpath.ts";
import { schemaForKind, schemaForMessage } from "./schema.ts";
import { compare, merge, removeItems, TypedValueError } from "./typed.ts";
import { FieldSet, keyPE, pathOf } from "./fieldpath.ts";

const paths = (obj: unknown, schema = POD): string[] => fieldSetOf(schema, obj).paths().map(pathString);

describe("schema view", () => {
  it("derives list types from markers and upstream defaults", () => {
    const podSpec = schemaForMessage("k8s.io.api.core.v1.PodSpec");
    if (podSpec.kind !== "struct") throw new Error("PodSpec must be a struct");
    const containers = podSpec.field("containers")?.type;
    expect(containers).toMatchObject({ kind: "list", listType: "map", keys: ["name"] });
    expect(podSpec.field("nodeSelector")?.type).toMatchObject({ kind: "map", atomic: true });
    expect(podSpec.field("tolerations")?.type).toMatchObject({ kind: "list", listType: "atomic" });
    const container = schemaForMessage("k8s.io.api.core.v1.Container");
    if (container.kind !== "struct") throw new Error("Container must be a struct");
    expect(container.field("ports")?.type).toMatchObject({ listType: "map", keys: ["containerPort", "protocol"], keyDefaults: { protocol: "TCP" } });
    expect(container.field("args")?.type).toMatchObject({ listType: "atomic" });
    expect(schemaForMessage("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector")).toMatchObject({ atomic: true });
    expect(schemaForMessage("k8s.io.apimachinery.pkg.apis.meta.v1.Time")).toEqual({ kind: "scalar" });
    expect(schemaForKind("apps/v1", "Deployment")).toBe(schemaForMessage(DEPLOYMENT));
    expect(schemaForKind("apps/v1", "NoSuchKind")).toBeUndefined();
    expect(() => schemaForMessage("no.such.Message")).toThrow(/unknown message/);
  });
});

describe("fieldSetOf", () => {
  it("a kubectl-applied Deployment (exact FieldsV1, before meta stripping)", () => {
    const json = JSON.stringify(toFieldsV1(fieldSetOf(DEPLOYMENT, deploymentConfig())));
    expect(json).toBe(
      '{"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:labels":{"f:app":{}},"f:name":{},"f:namespace":{}},' +
      '"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},' +
      '"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:args":{},' +
      '"f:env":{"k:{\\"name\\":\\"MODE\\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{},' +
      '"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}',
    );
  });

  it("a Pod: keyed lists, sets, atomic lists and maps, leaves", () => {
    expect(paths(podConfig())).toEqual([
      ".apiVersion",
      ".kind",
      ".metadata.annotations.example.com/owner",
      '.metadata.finalizers[="example.com/audit"]',
      '.metadata.finalizers[="example.com/protect"]',
      ".metadata.labels.app",
      ".metadata.labels.tier",
      ".metadata.name",
      ".metadata.namespace",
      '.spec.containers[name="app"]',
      '.spec.containers[name="app"].args',
      '.spec.containers[name="app"].env[name="A"]',
      '.spec.containers[name="app"].env[name="A"].name',
      '.spec.containers[name="app"].env[name="A"].value',
      '.spec.containers[name="app"].env[name="B"]',
      '.spec.containers[name="app"].env[name="B"].name',
      '.spec.containers[name="app"].env[name="B"].valueFrom.fieldRef',
      '.spec.containers[name="app"].image',
      '.spec.containers[name="app"].name',
      '.spec.containers[name="app"].ports[containerPort=8080,protocol="TCP"]',
      '.spec.containers[name="app"].ports[containerPort=8080,protocol="TCP"].containerPort',
      '.spec.containers[name="app"].ports[containerPort=8080,protocol="TCP"].name',
      '.spec.containers[name="app"].ports[containerPort=8080,protocol="TCP"].protocol',
      '.spec.containers[name="app"].ports[containerPort=8125,protocol="UDP"]',
      '.spec.containers[name="app"].ports[containerPort=8125,protocol="UDP"].containerPort',
      '.spec.containers[name="app"].ports[containerPort=8125,protocol="UDP"].protocol',
      '.spec.containers[name="app"].resources.limits.cpu',
      '.spec.containers[name="app"].resources.limits.memory',
      '.spec.containers[name="app"].volumeMounts[mountPath="/data"]',
      '.spec.containers[name="app"].volumeMounts[mountPath="/data"].mountPath',
      '.spec.containers[name="app"].volumeMounts[mountPath="/data"].name',
      ".spec.nodeSelector",
      ".spec.tolerations",
      '.spec.volumes[name="data"]',
      '.spec.volumes[name="data"].emptyDir',
      '.spec.volumes[name="data"].name',
    ]);
  });

  it.each([
    ["empty object is a leaf", { spec: { securityContext: {} } }, [".spec.securityContext"]],
    ["null is a leaf", { spec: { hostname: null } }, [".spec.hostname"]],
    ["empty keyed list sets nothing", { spec: { containers: [] } }, []],
    ["empty atomic list is a leaf", { spec: { tolerations: [] } }, [".spec.tolerations"]],
    ["unknown fields are members", { spec: { bogus: { a: 1 } } }, [".spec.bogus", ".spec.bogus.a"]],
    ["quantities and times are scalars", { metadata: { creationTimestamp: "2024-01-01T00:00:00Z" } }, [".metadata.creationTimestamp"]],
    ["map values below a granular map", { metadata: { labels: { a: "1", b: "2" } } }, [".metadata.labels.a", ".metadata.labels.b"]],
    ["port key defaults protocol", { spec: { containers: [{ name: "c", ports: [{ containerPort: 53 }] }] } }, [
      '.spec.containers[name="c"]', '.spec.containers[name="c"].name',
      '.spec.containers[name="c"].ports[containerPort=53,protocol="TCP"]',
      '.spec.containers[name="c"].ports[containerPort=53,protocol="TCP"].containerPort',
    ]],
  ])("%s", (_name, obj, want) => {
    expect(paths(obj)).toEqual(want);
  });

  it.each([
    ["duplicate container names", { spec: { containers: [{ name: "a" }, { name: "a" }] } }, '.spec.containers: duplicate entries for key [name="a"]'],
    ["an item without its key", { spec: { containers: [{ image: "x" }] } }, '.spec.containers: element 0: associative list with keys has an element that omits all key fields ["name"]'],
    ["a non-map keyed item", { spec: { containers: ["x"] } }, ".spec.containers: element 0: associative list with keys may not have non-map elements"],
    ["a map in a set", { metadata: { finalizers: [{}] } }, ".metadata.finalizers: element 0: associative list without keys has an element that's a map type"],
    ["a null in a set", { metadata: { finalizers: [null] } }, "explicit null"],
    ["a duplicate set item", { metadata: { finalizers: ["a", "a"] } }, '.metadata.finalizers: duplicate entries for key [="a"]'],
    ["a string for a struct", { spec: "x" }, ".spec: expected map, got string"],
    ["an object for a scalar", { spec: { hostname: {} } }, ".spec.hostname: expected scalar, got map"],
    ["an object for a list", { spec: { containers: {} } }, ".spec.containers: expected list, got map"],
  ])("strict mode rejects %s", (_name, obj, want) => {
    expect(() => fieldSetOf(POD, obj, true)).toThrow(TypedValueError);
    expect(() => fieldSetOf(POD, obj, true)).toThrow(want);
  });

  it("non-strict mode skips what it cannot key", () => {
    expect(paths({ spec: { containers: [{ image: "x" }, { name: "ok" }] } })).toEqual(['.spec.containers[name="ok"]', '.spec.containers[name="ok"].name']);
    expect(paths({ metadata: { finalizers: ["a", "a"] } })).toEqual(['.metadata.finalizers[="a"]']);
  });
});

describe("compare", () => {
  const pod = schemaForMessage(POD);
  const diff = (a: unknown, b: unknown): Record<string, string[]> => {
    const c = compare(pod, a, b);
    return { added: c.added.paths().map(pathString), modified: c.modified.paths().map(pathString), removed: c.removed.paths().map(pathString) };
  };

  it("leaf changes, additions and removals", () => {
    expect(diff(
      { metadata: { labels: { a: "1", b: "2" } }, spec: { hostname: "x" } },
      { metadata: { labels: { a: "1", c: "3" } }, spec: { hostname: "y" } },
    )).toEqual({ added: [".metadata.labels.c"], modified: [".spec.hostname"], removed: [".metadata.labels.b"] });
  });

  it("a new map counts as added itself (the `.` of Update entries)", () => {
    expect(diff({ metadata: {} }, { metadata: { labels: { a: "1" } } }).added).toEqual([".metadata.labels", ".metadata.labels.a"]);
  });

  it("value structs and containers are never added as a whole", () => {
    expect(diff({}, { metadata: { name: "x" }, spec: { containers: [{ name: "c" }] } }).added).toEqual([
      ".metadata.name", '.spec.containers[name="c"]', '.spec.containers[name="c"].name',
    ]);
  });

  it("atomic lists compare as one value", () => {
    expect(diff({ spec: { tolerations: [{ key: "a" }] } }, { spec: { tolerations: [{ key: "b" }] } }).modified).toEqual([".spec.tolerations"]);
  });

  it("keyed items are matched by key, not position", () => {
    expect(diff(
      { spec: { containers: [{ name: "a", image: "1" }, { name: "b", image: "1" }] } },
      { spec: { containers: [{ name: "b", image: "1" }, { name: "a", image: "2" }] } },
    )).toEqual({ added: [], modified: ['.spec.containers[name="a"].image'], removed: [] });
  });

  it("duplicates on one side replace the item", () => {
    const d = diff({ spec: { containers: [{ name: "a" }, { name: "a" }] } }, { spec: { containers: [{ name: "a" }] } });
    expect(d.removed).toEqual(['.spec.containers[name="a"]']);
  });
});

describe("merge and removeItems", () => {
  const deploy = schemaForMessage(DEPLOYMENT);

  it.each([
    ["maps merge key by key", { a: { x: 1 } }, { a: { y: 2 } }, { a: { x: 1, y: 2 } }],
    ["null removes", { a: 1, b: 2 }, { a: null }, { b: 2 }],
    ["scalars replaced", { a: 1 }, { a: 2 }, { a: 2 }],
  ])("untyped: %s", (_name, l, r, want) => {
    expect(merge({ kind: "untyped" }, l, r)).toEqual(want);
  });

  it("keyed lists merge by key, keeping live order and appending new items", () => {
    const live = { spec: { template: { spec: { containers: [{ name: "a", image: "1", tty: true }, { name: "b", image: "1" }] } } } };
    const cfg = { spec: { template: { spec: { containers: [{ name: "c", image: "3" }, { name: "a", image: "2" }] } } } };
    const out = merge(deploy, live, cfg) as { spec: { template: { spec: { containers: unknown[] } } } };
    expect(out.spec.template.spec.containers).toEqual([
      { name: "c", image: "3" }, { name: "a", image: "2", tty: true }, { name: "b", image: "1" },
    ]);
  });

  it("sets are unioned and atomic lists replaced", () => {
    const pod = schemaForMessage(POD);
    const out = merge(pod,
      { metadata: { finalizers: ["a", "b"] }, spec: { containers: [{ name: "c", args: ["1", "2"] }] } },
      { metadata: { finalizers: ["c", "a"] }, spec: { containers: [{ name: "c", args: ["3"] }] } });
    expect(out).toEqual({ metadata: { finalizers: ["c", "a", "b"] }, spec: { containers: [{ name: "c", args: ["3"] }] } });
  });

  it("atomic structs are replaced whole", () => {
    const out = merge(deploy, { spec: { selector: { matchLabels: { a: "1" } } } }, { spec: { selector: { matchExpressions: [] } } });
    expect(out).toEqual({ spec: { selector: { matchExpressions: [] } } });
  });

  it("removeItems drops members and empties", () => {
    const obj = { metadata: { labels: { a: "1" } }, spec: { replicas: 1, paused: true } };
    const out = removeItems(deploy, obj, FieldSet.of(pathOf("metadata", "labels", "a"), pathOf("spec", "paused")));
    expect(out).toEqual({ spec: { replicas: 1 } });
    const items = { spec: { template: { spec: { containers: [{ name: "a" }, { name: "b" }] } } } };
    const cut = removeItems(deploy, items, FieldSet.of([...pathOf("spec", "template", "spec", "containers"), keyPE([["name", "a"]])]));
    expect(cut).toEqual({ spec: { template: { spec: { containers: [{ name: "b" }] } } } });
  });
});
