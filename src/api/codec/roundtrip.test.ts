import { describe, expect, it } from "vitest";
import { allKinds, allBodyKinds } from "../registry.ts";
import { RandomObjects, rng } from "./_random.ts";
import { decodeObject, encodeObject } from "./mod.ts";

describe("round trip on random objects", () => {
  const kinds = [
    ...allKinds().flatMap((k) => [
      { apiVersion: k.apiVersion, kind: k.kind, fq: k.protoMessage },
      { apiVersion: k.apiVersion, kind: k.listKind, fq: k.listProtoMessage },
    ]),
    ...allBodyKinds().map((b) => ({ apiVersion: b.apiVersion, kind: b.kind, fq: b.protoMessage })),
  ];

  it("decode(encode(x)) == x and re-encoding gives the same bytes, for every kind, list and body", () => {
    const gen = new RandomObjects(rng(20240501), 5);
    const deadline = Date.now() + 15_000;
    let n = 0;
    for (let round = 0; round < 6 && Date.now() < deadline; round++) {
      for (const k of kinds) {
        const obj = { apiVersion: k.apiVersion, kind: k.kind, ...gen.message(k.fq) };
        const bytes = encodeObject(obj);
        const back = decodeObject(bytes);
        expect(back, `${k.apiVersion} ${k.kind}`).toEqual(obj);
        expect(encodeObject(back)).toEqual(bytes);
        n++;
      }
    }
    expect(n).toBeGreaterThan(kinds.length);
  });
});
