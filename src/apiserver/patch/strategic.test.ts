import { describe, it, expect } from "vitest";
import { applyStrategicMergePatch, applyStrategicMergePatchOwned, type MergeKeyLookup } from "./strategic.ts";
import { PatchError, type Json } from "./jsonpatch.ts";
import { mergeKeysFor } from "../schemahooks.ts";

/** The merge metadata of a Pod from the generated schema (containers/env/ports/volumes/finalizers...). */
const podLookup: MergeKeyLookup = mergeKeysFor("v1", "Pod") ?? (() => undefined);

/** A synthetic schema for shapes the Pod does not have. */
const synthetic: MergeKeyLookup = (path) => {
  if (path === "items") return { mergeKey: "id", merge: true };
  if (path === "tags") return { merge: true };
  if (path === "atomic") return { merge: false };
  if (path === "noKey") return { merge: true };
  return undefined;
};

interface Case {
  readonly name: string;
  readonly target: Json;
  readonly patch: Json;
  readonly want?: Json;
  /** Expected error: kind and message (substring or regexp). */
  readonly error?: { kind: "malformed" | "failed"; message: string | RegExp };
  readonly lookup?: MergeKeyLookup;
}

const c = (name: string, image = "img", extra: Record<string, Json> = {}): Json => ({ name, image, ...extra });
const pod = (containers: Json[], extra: Record<string, Json> = {}): Json => ({ spec: { containers, ...extra } });

const cases: Case[] = [
  // ---- maps and null
  { name: "map keys merge, scalars replace", target: { metadata: { labels: { a: "1", b: "2" } } }, patch: { metadata: { labels: { b: "3", c: "4" } } }, want: { metadata: { labels: { a: "1", b: "3", c: "4" } } } },
  { name: "null deletes a key", target: { metadata: { labels: { a: "1", b: "2" } } }, patch: { metadata: { labels: { a: null } } }, want: { metadata: { labels: { b: "2" } } } },
  { name: "null for a missing key is ignored", target: { metadata: {} }, patch: { metadata: { labels: null, x: { y: null, z: 1 } } }, want: { metadata: { x: { z: 1 } } } },
  { name: "a value of another type replaces", target: { spec: { a: { b: 1 } } }, patch: { spec: { a: [1, 2] } }, want: { spec: { a: [1, 2] } } },
  // ---- $patch on maps
  { name: "$patch: replace on a map", target: { metadata: { labels: { a: "1", b: "2" } } }, patch: { metadata: { labels: { $patch: "replace", c: "3" } } }, want: { metadata: { labels: { c: "3" } } } },
  { name: "$patch: delete on a map empties it", target: { metadata: { labels: { a: "1" } } }, patch: { metadata: { labels: { $patch: "delete" } } }, want: { metadata: { labels: {} } } },
  { name: "$patch: replace on a new key keeps the content", target: { metadata: {} }, patch: { metadata: { labels: { $patch: "replace", c: "3" } } }, want: { metadata: { labels: { c: "3" } } } },
  { name: "$patch: delete on a new key adds nothing", target: { metadata: {} }, patch: { metadata: { labels: { $patch: "delete" } } }, want: { metadata: {} } },
  { name: "$patch: merge on a map is an error", target: { metadata: { labels: {} } }, patch: { metadata: { labels: { $patch: "merge" } } }, error: { kind: "malformed", message: "unknown patch type: merge in map: map[$patch:merge]" } },
  { name: "unknown $patch value on a map", target: { metadata: { labels: {} } }, patch: { metadata: { labels: { $patch: "frob", a: "1" } } }, error: { kind: "malformed", message: "unknown patch type: frob in map: map[$patch:frob a:1]" } },
  { name: "non-string $patch value", target: {}, patch: { $patch: 5 }, error: { kind: "malformed", message: "unknown patch type: %!s(int64=5) in map: map[$patch:5]" } },
  // ---- keyed lists
  { name: "containers merge by name (set image)", target: pod([c("a", "a:1", { ports: [{ containerPort: 80 }] }), c("b")]), patch: pod([{ name: "a", image: "a:2" }]), want: pod([c("a", "a:2", { ports: [{ containerPort: 80 }] }), c("b")]) },
  { name: "new keyed items go before server-only items (upstream order)", target: pod([c("a"), c("b")]), patch: pod([c("z")]), want: pod([c("z"), c("a"), c("b")]) },
  { name: "patch items keep patch order; server-only interleave by live order", target: pod([c("a"), c("b"), c("c")]), patch: pod([{ name: "c", image: "x" }, { name: "a", image: "y" }]), want: pod([c("b"), c("c", "x"), c("a", "y")]) },
  { name: "nested keyed lists (env by name, ports by containerPort)", target: pod([c("a", "i", { env: [{ name: "X", value: "1" }, { name: "Y", value: "2" }], ports: [{ containerPort: 80, name: "http" }] })]), patch: pod([{ name: "a", env: [{ name: "Y", value: "3" }], ports: [{ containerPort: 443 }] }]), want: pod([c("a", "i", { env: [{ name: "X", value: "1" }, { name: "Y", value: "3" }], ports: [{ containerPort: 443 }, { containerPort: 80, name: "http" }] })]) },
  { name: "$patch: delete removes a keyed item", target: pod([c("a"), c("b")]), patch: pod([{ name: "a", $patch: "delete" }]), want: pod([c("b")]) },
  { name: "$patch: delete of a missing item is a no-op", target: pod([c("a")]), patch: pod([{ name: "zz", $patch: "delete" }]), want: pod([c("a")]) },
  { name: "$patch: replace in a list replaces the whole list", target: pod([c("a"), c("b")]), patch: pod([{ $patch: "replace" }, c("n")]), want: pod([c("n")]) },
  { name: "$patch: merge in a list is an error", target: pod([c("a")]), patch: pod([{ name: "a", $patch: "merge" }]), error: { kind: "malformed", message: "merging lists cannot yet be specified in the patch" } },
  { name: "unknown $patch value in a list", target: pod([c("a")]), patch: pod([{ name: "a", $patch: "bogus" }]), error: { kind: "malformed", message: "unknown patch type: bogus in map: map[$patch:bogus name:a]" } },
  { name: "$patch: delete without the merge key", target: pod([c("a")]), patch: pod([{ $patch: "delete" }]), error: { kind: "malformed", message: "map: map[$patch:delete] does not contain declared merge key: name" } },
  { name: "item without the merge key", target: pod([c("a")]), patch: pod([{ image: "x" }]), error: { kind: "malformed", message: "map: map[image:x] does not contain declared merge key: name" } },
  { name: "keyed list with scalars mixed in", target: pod([c("a")]), patch: pod(["x"]), error: { kind: "malformed", message: /list element types are not identical/ } },
  { name: "lists of lists", target: { items: [] }, patch: { items: [[1]] }, lookup: synthetic, error: { kind: "failed", message: "lists of lists are not supported" } },
  { name: "merge list of maps without a merge key", target: { noKey: [{ a: 1 }] }, patch: { noKey: [{ a: 2 }] }, lookup: synthetic, error: { kind: "malformed", message: "cannot merge lists without merge key for noKey" } },
  { name: "appended items lose directives and nulls", target: pod([c("a")]), patch: pod([{ name: "b", image: null, "$setElementOrder/env": [{ name: "E" }], env: [{ name: "E", value: "1" }] }]), want: pod([{ name: "b", env: [{ name: "E", value: "1" }] }, c("a")]) },
  // ---- primitive lists
  { name: "merge-strategy primitive list is a union (finalizers)", target: { metadata: { finalizers: ["a", "b"] } }, patch: { metadata: { finalizers: ["c", "a"] } }, want: { metadata: { finalizers: ["c", "a", "b"] } } },
  { name: "union keeps live order for server-only items", target: { tags: ["x", "y", "z"] }, patch: { tags: ["y", "w"] }, lookup: synthetic, want: { tags: ["x", "y", "w", "z"] } },
  { name: "$deleteFromPrimitiveList removes values", target: { metadata: { finalizers: ["a", "b", "c"] } }, patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["b", "zz"] } }, want: { metadata: { finalizers: ["a", "c"] } } },
  { name: "$deleteFromPrimitiveList with additions", target: { metadata: { finalizers: ["a", "b"] } }, patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"], finalizers: ["c"] } }, want: { metadata: { finalizers: ["c", "b"] } } },
  { name: "$deleteFromPrimitiveList on a missing list", target: { metadata: {} }, patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }, want: { metadata: {} } },
  { name: "$deleteFromPrimitiveList without a field name", target: { metadata: {} }, patch: { metadata: { $deleteFromPrimitiveList: ["a"] } }, error: { kind: "malformed", message: "invalid patch format of primitive list" } },
  { name: "non-merge lists replace (args)", target: pod([c("a", "i", { args: ["1", "2"] })]), patch: pod([{ name: "a", args: ["3"] }]), want: pod([c("a", "i", { args: ["3"] })]) },
  { name: "atomic list replace drops directive items", target: { atomic: [1, 2] }, patch: { atomic: [{ $patch: "replace" }, { a: 1 }] }, lookup: synthetic, want: { atomic: [{ a: 1 }] } },
  // ---- $setElementOrder
  { name: "$setElementOrder orders the patch items (set image)", target: pod([c("a"), c("b")]), patch: { spec: { "$setElementOrder/containers": [{ name: "b" }, { name: "a" }], containers: [{ name: "a", image: "new" }] } }, want: pod([c("b"), c("a", "new")]) },
  { name: "$setElementOrder alone reorders", target: pod([c("a"), c("b"), c("c")]), patch: { spec: { "$setElementOrder/containers": [{ name: "c" }, { name: "a" }, { name: "b" }] } }, want: pod([c("c"), c("a"), c("b")]) },
  { name: "$setElementOrder keeps unlisted server items by live order", target: pod([c("a"), c("b"), c("c")]), patch: { spec: { "$setElementOrder/containers": [{ name: "c" }, { name: "a" }] } }, want: pod([c("b"), c("c"), c("a")]) },
  { name: "$setElementOrder with a new item", target: pod([c("a")]), patch: { spec: { "$setElementOrder/containers": [{ name: "n" }, { name: "a" }], containers: [c("n")] } }, want: pod([c("n"), c("a")]) },
  { name: "$setElementOrder on a primitive list", target: { metadata: { finalizers: ["a", "b"] } }, patch: { metadata: { "$setElementOrder/finalizers": ["b", "c", "a"], finalizers: ["c"] } }, want: { metadata: { finalizers: ["b", "c", "a"] } } },
  { name: "$setElementOrder for a list the target lacks", target: { spec: {} }, patch: { spec: { "$setElementOrder/containers": [{ name: "a" }], containers: [c("a")] } }, want: pod([c("a")]) },
  { name: "$setElementOrder with nothing to order", target: { spec: {} }, patch: { spec: { "$setElementOrder/containers": [] } }, want: { spec: {} } },
  { name: "$setElementOrder item without the merge key", target: pod([c("a")]), patch: { spec: { "$setElementOrder/containers": [{ nam: "a" }] } }, error: { kind: "malformed", message: "map: map[nam:a] does not contain declared merge key: name" } },
  { name: "$setElementOrder not a list", target: pod([c("a")]), patch: { spec: { "$setElementOrder/containers": "a" } }, error: { kind: "malformed", message: "expected a []interface {}, but received a string" } },
  { name: "$setElementOrder disagreeing with the patch list", target: pod([c("a"), c("b")]), patch: { spec: { "$setElementOrder/containers": [{ name: "a" }], containers: [{ name: "b", image: "x" }] } }, error: { kind: "malformed", message: /doesn't match \$setElementOrder list/ } },
  { name: "$setElementOrder without a field name", target: pod([c("a")]), patch: { spec: { $setElementOrder: [] } }, error: { kind: "malformed", message: "invalid patch format of setElementOrder list" } },
  // ---- $retainKeys
  { name: "$retainKeys clears unlisted keys (strategy type change)", target: { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } }, patch: { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } }, want: { spec: { strategy: { type: "Recreate" } } } },
  { name: "$retainKeys allows null and directive keys", target: { spec: { v: { a: 1, b: 2, c: [1] } } }, patch: { spec: { v: { $retainKeys: ["a", "c"], b: null, "$deleteFromPrimitiveList/c": [1] } } }, want: { spec: { v: { a: 1, c: [] } } } },
  { name: "$retainKeys must list every patched key", target: { spec: { v: {} } }, patch: { spec: { v: { $retainKeys: ["a"], b: 1 } } }, error: { kind: "malformed", message: "invalid patch format of retainKeys" } },
  { name: "$retainKeys must be a list", target: { spec: { v: {} } }, patch: { spec: { v: { $retainKeys: "a" } } }, error: { kind: "malformed", message: "invalid patch format of retainKeys" } },
  // ---- misc
  { name: "unknown $ keys are plain fields (left to field validation)", target: {}, patch: { $frob: 1 }, want: { $frob: 1 } },
  { name: "top-level $patch: delete empties the object", target: { a: 1 }, patch: { $patch: "delete" }, want: {} },
  { name: "a non-object patch", target: {}, patch: [1], error: { kind: "malformed", message: "strategic merge patch must be a JSON object" } },
];

describe("strategic merge patch (table)", () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const lookup = tc.lookup ?? podLookup;
      const before = JSON.stringify(tc.target);
      const run = (): Json => applyStrategicMergePatch(tc.target, tc.patch, lookup);
      if (tc.error) {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PatchError);
        const pe = err as PatchError;
        expect(pe.kind).toBe(tc.error.kind);
        if (typeof tc.error.message === "string") expect(pe.message).toBe(tc.error.message);
        else expect(pe.message).toMatch(tc.error.message);
      } else {
        expect(run()).toEqual(tc.want);
      }
      expect(JSON.stringify(tc.target)).toBe(before); // inputs untouched
    });
  }

  it("kubectl set image body (log 10) on a real Deployment schema", () => {
    const lookup = mergeKeysFor("apps/v1", "Deployment") ?? (() => undefined);
    const dep = { spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] } } } };
    const body = { spec: { template: { spec: { "$setElementOrder/containers": [{ name: "nginx" }], containers: [{ image: "nginx:1.27", name: "nginx" }] } } } };
    expect(applyStrategicMergePatch(dep, body, lookup)).toEqual({ spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] } } } });
  });

  it("bounds nesting", () => {
    let deep: Json = { x: 1 };
    for (let i = 0; i < 600; i++) deep = { a: deep };
    let target: Json = { x: 0 };
    for (let i = 0; i < 600; i++) target = { a: target };
    expect(() => applyStrategicMergePatch(target, deep, () => undefined)).toThrow(/nested too deeply/);
  });
});

/** Result or error of one patch application, comparable across the two entry points. */
function outcome(f: () => Json): { ok: Json } | { kind: string; message: string } {
  try {
    return { ok: f() };
  } catch (e) {
    if (e instanceof PatchError) return { kind: e.kind, message: e.message };
    throw e;
  }
}

describe("applyStrategicMergePatchOwned (builds the result in the caller's copy)", () => {
  for (const tc of cases) {
    it(`same outcome as the copying form: ${tc.name}`, () => {
      const lookup = tc.lookup ?? podLookup;
      const patchBefore = JSON.stringify(tc.patch);
      const want = outcome(() => applyStrategicMergePatch(tc.target, tc.patch, lookup));
      const owned = structuredClone(tc.target);
      const got = outcome(() => applyStrategicMergePatchOwned(owned, tc.patch, lookup));
      expect(got).toEqual(want);
      expect(JSON.stringify(tc.patch)).toBe(patchBefore); // the patch is never modified
    });
  }

  it("reuses the target instead of copying it, and never aliases the patch", () => {
    const target: Json = { metadata: { name: "p" }, status: { conditions: [{ type: "Ready", status: "True" }] } };
    const patch: Json = { status: { conditions: [{ type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler" }] } };
    const out = applyStrategicMergePatchOwned(target, patch, podLookup) as { [k: string]: Json };
    expect(out).toBe(target);
    expect(out).toEqual({ metadata: { name: "p" }, status: { conditions: [
      { type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler" }, { type: "Ready", status: "True" }] } });
    // Mutating the result does not reach the patch (the patch's values were copied).
    ((out["status"] as { [k: string]: Json })["conditions"] as { [k: string]: Json }[])[0]!["reason"] = "changed";
    expect(JSON.stringify(patch)).toContain("PreemptionByScheduler");
  });

  it("a parsed patch with an own __proto__ key: same result both ways, no prototype change", () => {
    const patch = JSON.parse('{"metadata":{"labels":{"__proto__":"x","a":"1"}}}') as Json;
    const outs = [applyStrategicMergePatch, applyStrategicMergePatchOwned].map((f) =>
      f({ metadata: {} }, patch, podLookup) as { metadata: { labels: { [k: string]: Json } } });
    expect(JSON.stringify(outs[0])).toBe(JSON.stringify(outs[1]));
    for (const out of outs) expect(Object.getPrototypeOf(out.metadata.labels)).toBe(Object.prototype);
  });

  it("copies a patch deeper than the merge bound and reports the merge's error, as before", () => {
    let deep: Json = { x: 1 };
    for (let i = 0; i < 600; i++) deep = { a: deep };
    // A new key takes the deep value whole: no error, and the result is a copy.
    const out = applyStrategicMergePatch({}, { b: deep }, () => undefined) as { [k: string]: Json };
    expect(out["b"]).toEqual(deep);
    expect(out["b"]).not.toBe(deep);
    let target: Json = { x: 0 };
    for (let i = 0; i < 600; i++) target = { a: target };
    expect(() => applyStrategicMergePatchOwned(target, deep, () => undefined)).toThrow(/nested too deeply/);
  });

  it("rejects a non-object patch like the copying form", () => {
    expect(() => applyStrategicMergePatchOwned({}, [1] as Json, podLookup)).toThrow(/must be a JSON object/);
  });
});
