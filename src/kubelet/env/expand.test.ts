import { describe, expect, it } from "vitest";
import { expand, lookupIn } from "./expand.ts";

const vars = lookupIn(new Map([["A", "alpha"], ["B", "beta"], ["EMPTY", ""]]), new Map([["A", "shadowed"], ["C", "gamma"]]));

describe("expand", () => {
  it.each([
    ["plain", "plain"],
    ["$(A)", "alpha"],
    ["x-$(A)-$(B)-y", "x-alpha-beta-y"],
    ["$(C)", "gamma"],
    ["[$(EMPTY)]", "[]"],
    ["$(MISSING)", "$(MISSING)"],
    ["$$(A)", "$(A)"],
    ["$$$(A)", "$alpha"],
    ["$$$$(A)", "$$(A)"],
    ["$(A", "$(A"],
    ["$(", "$("],
    ["$", "$"],
    ["a$", "a$"],
    ["$A", "$A"],
    ["$$", "$"],
    ["$()", "$()"],
    ["$(A)$(B)", "alphabeta"],
    ["$(A$(B))", "$(A$(B))"],
    ["100$ and $(A)", "100$ and alpha"],
  ])("%s -> %s", (input, want) => {
    expect(expand(input, vars)).toBe(want);
  });

  it("the first map wins", () => {
    expect(expand("$(A)", lookupIn(new Map([["A", "1"]]), new Map([["A", "2"]])))).toBe("1");
  });
});
