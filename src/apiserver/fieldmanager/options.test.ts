import { describe, expect, it } from "vitest";
import { validatePatchOptions } from "./options.ts";

describe("validatePatchOptions", () => {
  it("accepts a normal apply and a normal patch", () => {
    expect(validatePatchOptions({ isApply: true, fieldManager: "kubectl", forceGiven: true })).toBeUndefined();
    expect(validatePatchOptions({ isApply: false, fieldManager: "", forceGiven: false })).toBeUndefined();
  });

  it.each([
    ["apply without fieldManager", { isApply: true, fieldManager: "", forceGiven: false },
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'],
    ["force on a merge patch", { isApply: false, fieldManager: "", forceGiven: true },
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'],
    ["a long fieldManager", { isApply: true, fieldManager: "x".repeat(129), forceGiven: false },
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes'],
    ["a control character", { isApply: true, fieldManager: "a\u0007", forceGiven: false },
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\u0007": invalid character U+0007 (at position 1)'],
  ])("rejects %s with a 422", (_name, input, message) => {
    const err = validatePatchOptions(input);
    expect(err?.code).toBe(422);
    expect(err?.status.reason).toBe("Invalid");
    expect(err?.message).toBe(message);
    expect(err?.status.details).toMatchObject({ group: "meta.k8s.io", kind: "PatchOptions", name: "" });
  });
});
