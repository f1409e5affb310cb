import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import { RandomObjects, rng } from "./_random.ts";
import { decodeObject, decodeWatchEvent, encodeObject, encodeWatchEvent } from "./mod.ts";

function seeds(): Uint8Array[] {
  const gen = new RandomObjects(rng(7), 4);
  const log = readFileSync(new URL("../../../../shared/reference/kubectl/logs/08.create-deployment.jsonl", import.meta.url), "utf8");
  const kubectl = log.trim().split("\n").map((l) => JSON.parse(l) as { body?: { base64?: string } })
    .find((r) => r.body?.base64)!.body!.base64!;
  return [
    new Uint8Array(Buffer.from(kubectl, "base64")),
    encodeObject({ apiVersion: "v1", kind: "Pod", ...gen.message("k8s.io.api.core.v1.Pod") }),
    encodeObject({ apiVersion: "v1", kind: "PodList", items: [gen.message("k8s.io.api.core.v1.Pod"), gen.message("k8s.io.api.core.v1.Pod")] }),
    encodeObject({ apiVersion: "apps/v1", kind: "Deployment", ...gen.message("k8s.io.api.apps.v1.Deployment") }),
    encodeObject({ apiVersion: "v1", kind: "Status", status: "Failure", code: 404, details: { causes: [{ message: "x" }] } }),
  ];
}

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const b = Array.from(src);
  const ops = 1 + Math.floor(r() * 4);
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(r() * Math.max(1, b.length));
    switch (Math.floor(r() * 6)) {
      case 0: b[at] = Math.floor(r() * 256); break; // random byte
      case 1: b[at] = (b[at] ?? 0) ^ (1 << Math.floor(r() * 8)); break; // bit flip
      case 2: b.length = at; break; // truncate
      case 3: b.splice(at, 0, ...Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256))); break;
      case 4: b.splice(at, 1 + Math.floor(r() * 8)); break; // delete
      default: b[at] = [0x80, 0xff, 0x7f, 0x00, 0x0a, 0x12, 0x0b, 0x0c][Math.floor(r() * 8)]!; // tag/varint-ish byte
    }
  }
  return Uint8Array.from(b);
}

describe("decoder fuzz", () => {
  it("mutated and truncated envelopes only ever throw ApiError 400", () => {
    const r = rng(1234);
    const base = seeds();
    const deadline = Date.now() + 8_000;
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < 4000 && Date.now() < deadline; i++) {
      const input = mutate(base[i % base.length]!, r);
      try {
        decodeObject(input);
        decoded++;
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 400 || e.reason !== "BadRequest") {
          throw new Error(`non-400 failure on input ${Buffer.from(input).toString("hex")}: ${String(e)}`);
        }
        rejected++;
      }
    }
    expect(decoded + rejected).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(100);
  });

  it("every prefix of a valid body is either decodable or a 400", () => {
    for (const body of seeds()) {
      for (let n = 0; n < body.length; n++) {
        try {
          decodeObject(body.subarray(0, n));
        } catch (e) {
          expect(e).toBeInstanceOf(ApiError);
          expect((e as ApiError).code).toBe(400);
        }
      }
    }
  });

  it("mutated watch frames only ever throw ApiError 400", () => {
    const r = rng(99);
    const frames = seeds().map((s) => encodeWatchEvent("MODIFIED", s));
    for (let i = 0; i < 1500; i++) {
      const input = mutate(frames[i % frames.length]!, r);
      try {
        decodeWatchEvent(input);
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        expect((e as ApiError).code).toBe(400);
      }
    }
  });

  it("clear messages for the classic bad inputs", () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /missing the "k8s\\x00" prefix/],
      [Uint8Array.from(Buffer.from('{"kind":"Pod"}')), /missing the "k8s\\x00" prefix/],
      [Uint8Array.of(0x6b, 0x38, 0x73, 0x00), /no apiVersion or kind/],
      [Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 0x0a, 0x05, 0x0a, 0x01), /overruns|end of data/],
      [Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 0x0a, 0x80), /truncated varint/],
      [Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 0x0f), /invalid wire type 7/],
      [Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 0x0a, 0x09, 0x0a, 0x02, 0x76, 0x39, 0x12, 0x03, 0x46, 0x6f, 0x6f), /no kind "Foo" is registered for version "v9"/],
      [Uint8Array.of(0, 0, 0, 9, 1), /length says 9 bytes/],
    ];
    for (const [input, re] of cases) {
      const fn = input.length >= 4 && input[0] === 0 ? () => decodeWatchEvent(input) : () => decodeObject(input);
      expect(fn).toThrow(re);
    }
  });
});
