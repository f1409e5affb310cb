import { describe, expect, it } from "vitest";
import { decideDependent, decideOwner, type OwnerCheck } from "./decide.ts";

const o = (uid: string, state: OwnerCheck["state"]): OwnerCheck => ({ uid, state });

describe("decideDependent", () => {
  it.each([
    ["no owners", [], false, [], { action: "none" }],
    ["solid owner", [o("a", "solid")], false, [], { action: "none" }],
    ["owner gone", [o("a", "absent")], false, [], { action: "delete", policy: "Background" }],
    ["one of two gone", [o("a", "solid"), o("b", "absent")], false, [], { action: "removeRefs", uids: ["b"] }],
    ["solid + waiting", [o("a", "solid"), o("b", "waiting")], true, [], { action: "removeRefs", uids: ["b"] }],
    ["owner waiting, leaf", [o("a", "waiting")], false, [], { action: "delete", policy: "Background" }],
    ["owner waiting, has dependents", [o("a", "waiting")], true, [], { action: "delete", policy: "Foreground" }],
    ["gone owner, own orphan finalizer", [o("a", "absent")], true, ["orphan"], { action: "delete", policy: "Orphan" }],
    ["gone owner, own foreground finalizer", [o("a", "absent")], true, ["foregroundDeletion"], { action: "delete", policy: "Foreground" }],
  ] as const)("%s", (_n, owners, hasDeps, fin, want) => {
    expect(decideDependent(owners, hasDeps, fin)).toEqual(want);
  });
});

describe("decideOwner", () => {
  it.each([
    ["live object", false, ["orphan"], 2, 0, { action: "none" }],
    ["orphan with dependents", true, ["orphan"], 2, 0, { action: "orphanDependents" }],
    ["orphan done", true, ["orphan"], 0, 0, { action: "removeFinalizer", finalizer: "orphan" }],
    ["foreground with blocking dependents", true, ["foregroundDeletion"], 2, 1, { action: "deleteDependents", blocking: 1 }],
    ["foreground done", true, ["foregroundDeletion"], 0, 0, { action: "removeFinalizer", finalizer: "foregroundDeletion" }],
    ["other finalizers only", true, ["example.com/x"], 3, 3, { action: "none" }],
  ] as const)("%s", (_n, deleting, fin, deps, blocking, want) => {
    expect(decideOwner(deleting, fin, deps, blocking)).toEqual(want);
  });
});
