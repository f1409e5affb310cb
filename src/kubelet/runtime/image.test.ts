import { describe, expect, it } from "vitest";
import { RuntimeError } from "./errors.ts";
import { isImageId, normalizeImage, parseImageReference } from "./image.ts";

describe("image references", () => {
  it.each([
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["docker.io/library/busybox:latest", "docker.io/library/busybox:latest"],
    ["hollow/exit:3", "docker.io/hollow/exit:3"],
    ["registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"],
    ["localhost:5000/a/b", "localhost:5000/a/b:latest"],
    [`nginx@sha256:${"a".repeat(64)}`, `docker.io/library/nginx@sha256:${"a".repeat(64)}`],
    [`sha256:${"b".repeat(64)}`, `sha256:${"b".repeat(64)}`],
  ])("normalizes %s", (input, want) => {
    expect(normalizeImage(input)).toBe(want);
  });
  it("recognizes image ids", () => {
    expect(isImageId(`sha256:${"0".repeat(64)}`)).toBe(true);
    expect(isImageId("sha256:abc")).toBe(false);
  });
  it.each([
    ["", /empty/],
    ["Busybox", /lower-case/],
    ["a b", /lower-case/],
    ["busybox:", /tag/],
    ["busybox@sha256:xyz", /digest/],
    ["a//b", /empty path component/],
    ["x".repeat(300), /255/],
  ])("rejects %j with InvalidArgument", (input, why) => {
    let err: unknown;
    try {
      parseImageReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).code).toBe("InvalidArgument");
    expect((err as RuntimeError).message).toMatch(why);
  });
});
