import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import { decodeObjectBody, MAX_BODY_DEPTH, readBody } from "./body.ts";
import type { HttpRequest } from "../transport/types.ts";

const enc = new TextEncoder();

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
}

function status(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("decodeObjectBody nesting bound", () => {
  it("accepts a body nested exactly MAX_BODY_DEPTH levels", () => {
    const body = decodeObjectBody(enc.encode(nested(MAX_BODY_DEPTH)), "json", undefined);
    expect(typeof body.value).toBe("object");
  });

  it("refuses deeper JSON with a 400 naming the limit, even at 100,000 levels", () => {
    for (const depth of [MAX_BODY_DEPTH + 1, 100_000]) {
      const err = status(() => decodeObjectBody(enc.encode(nested(depth)), "json", undefined));
      expect(err.code).toBe(400);
      expect(err.message).toContain(`deeper than ${MAX_BODY_DEPTH} levels`);
    }
  });

  it("refuses deep arrays and deep YAML the same way", () => {
    const arrays = `${"[".repeat(MAX_BODY_DEPTH + 5)}${"]".repeat(MAX_BODY_DEPTH + 5)}`;
    expect(status(() => decodeObjectBody(enc.encode(arrays), "json", undefined)).code).toBe(400);
    expect(status(() => decodeObjectBody(enc.encode(nested(MAX_BODY_DEPTH + 1)), "yaml", undefined)).code).toBe(400);
  });
});

describe("readBody", () => {
  const request = (body: () => Promise<Uint8Array>, signal: AbortSignal): HttpRequest => ({
    method: "PUT", path: "/", rawQuery: "", query: new URLSearchParams(), headers: {}, httpVersion: "2", remoteAddress: "", signal,
    body: () => body(),
  });

  it("a client that went away mid-body is a 400 naming it, not a server error", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await readBody(request(() => Promise.reject(new Error("the client closed the request before its body was complete")), ac.signal)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(400);
    expect((err as ApiError).message).toMatch(/client went away/);
  });

  it("other read failures of a live request stay unexpected errors", async () => {
    const err = await readBody(request(() => Promise.reject(new Error("boom")), new AbortController().signal)).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ApiError);
  });
});
