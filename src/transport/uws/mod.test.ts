import { describe, expect, it } from "vitest";
import { runTransportConformance, startInProcess } from "../conformance.ts";
import { capabilities, uwsNative, uwsTransport } from "./mod.ts";

describe("uws native binary", () => {
  it("loaded the native uWebSockets.js binary (not the JS fallback)", () => {
    expect(uwsNative).toBe(true);
  });
});

runTransportConformance("uws", capabilities, startInProcess(uwsTransport));
