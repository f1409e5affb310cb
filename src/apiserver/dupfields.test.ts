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
  it("gives the same answers when handed the parsed value (member-count fast path)", () => {
    const texts = [
      `{"a":1,"a":2,"b":{"c":[{"d":1,"d":{"e":"x\\"y"}}]},"m":{"n":1,"n":2}}`,
      `{"a":[1,2,{"b":null}],"s":"}{,:\\":"}`,
      `{"k:{\\"x\\":1}":{"f:a":{}},"__proto__":{"p":1}}`,
      `{"x":{"y":1},"x":{"y":1}}`,
      `{"a":{},"b":[{},{"c":"::"}]}`,
      `[]`, ` 12 `, `"a:b"`,
    ];
    for (const t of texts) expect(duplicateFields(t, 100, JSON.parse(t))).toEqual(duplicateFields(t));
    expect(duplicateFields(texts[3]!, 100, JSON.parse(texts[3]!))).toEqual(["x"]);
  });
});
