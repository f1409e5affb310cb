import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.ts";
import { decodeObjectBody, MAX_BODY_DEPTH } from "./body.ts";

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
