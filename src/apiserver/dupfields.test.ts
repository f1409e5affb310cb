import { describe, it, expect } from "vitest";
import { duplicateFields } from "./dupfields.ts";

describe("duplicateFields", () => {
  it("finds duplicates at any depth", () => {
    expect(duplicateFields(`{"a":1,"a":2,"b":{"c":[{"d":1,"d":{"e":"x\\"y"}}]},"m":{"n":1,"n":2}}`)).toEqual(["a", "b.c[0].d", "m.n"]);
  });
  it("returns nothing for clean documents and scalars", () => {
    expect(duplicateFields(`{"a":[1,2,{"b":null}],"s":"}{,"}`)).toEqual([]);
    expect(duplicateFields(`[]`)).toEqual([]);
    expect(duplicateFields(` 12 `)).toEqual([]);
  });
});
