import { afterEach, describe, expect, it } from "vitest";
import { defaultTransport, loadTransport } from "./transports.ts";

describe("transports", () => {
  const saved = process.env["TUG_TRANSPORT"];
  afterEach(() => {
    if (saved === undefined) delete process.env["TUG_TRANSPORT"];
    else process.env["TUG_TRANSPORT"] = saved;
  });

  it("defaults to tug-h2 on Node; TUG_TRANSPORT picks another", () => {
    delete process.env["TUG_TRANSPORT"];
    expect(defaultTransport()).toBe("tug-h2");
    process.env["TUG_TRANSPORT"] = "node-http2";
    expect(defaultTransport()).toBe("node-http2");
  });

  it("an unknown TUG_TRANSPORT is a clear error", () => {
    process.env["TUG_TRANSPORT"] = "carrier-pigeon";
    expect(() => defaultTransport()).toThrow("TUG_TRANSPORT=carrier-pigeon: not one of tug-h2, node-http2, uws, deno");
  });

  it("loads tug-h2 and node-http2; deno needs Deno", async () => {
    expect((await loadTransport("tug-h2")).name).toBe("tug-h2");
    expect((await loadTransport("node-http2")).name).toBe("node-http2");
    await expect(loadTransport("deno")).rejects.toThrow(/needs the Deno runtime/);
  });
});
