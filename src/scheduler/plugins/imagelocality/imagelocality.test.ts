import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../testing.ts";
import { fixture, kernelResults } from "../_fixture.ts";
import { imageSums, NAME, newImageLocality } from "./imagelocality.ts";

const MB = 1024 * 1024;
describe(NAME, () => {
  const nodes = [
    makeNode("has", { images: [{ names: ["example.com/app:1"], sizeBytes: 500 * MB }] }),
    makeNode("also", { images: [{ names: ["example.com/app:1", "example.com/app@sha256:abc"], sizeBytes: 500 * MB }] }),
    makeNode("none"),
    makeNode("tiny", { images: [{ names: ["example.com/tiny:latest"], sizeBytes: 10 * MB }] }),
  ];
  it("sums sizes scaled by spread", () => {
    const f = fixture(nodes);
    const sums = imageSums(["example.com/app:1"], f.snap);
    expect(Array.from(sums)).toEqual([250 * MB, 250 * MB, 0, 0]);
  });
  const cases = [
    { name: "image present on half the nodes", images: ["example.com/app:1"], want: { has: 23, also: 23, none: 0, tiny: 0 } },
    { name: "untagged name normalizes to :latest; below the 23 MB floor scores 0", images: ["example.com/tiny"], want: { has: 0, also: 0, none: 0, tiny: 0 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture(nodes);
      const k = kernelResults([newImageLocality()], f, f.info(makePod("p", { images: c.images })), { imageLocality: 1 });
      expect(Object.fromEntries(Object.entries(k).map(([n, r]) => [n, r.score]))).toEqual(c.want);
    });
  }
});
