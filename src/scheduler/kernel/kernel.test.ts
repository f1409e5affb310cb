import { describe, expect, it } from "vitest";
import { kernelConformance } from "./kernel.case.ts";
import { createKernel, createTwinKernel, reasonMessages } from "./mod.ts";

kernelConformance("TypeScript twin", (opts) => Promise.resolve(createTwinKernel(opts)));
kernelConformance("WASM scalar", (opts) => createKernel({ ...opts, simd: false }));
kernelConformance("WASM SIMD", (opts) => createKernel({ ...opts, simd: true }));

describe("createKernel options", () => {
  it("rejects bad shapes", async () => {
    expect(() => createTwinKernel({ taintWords: 0 })).toThrow(/taintWords must be an integer in \[1, 8\]/);
    expect(() => createTwinKernel({ extendedResources: Array.from({ length: 9 }, (_, i) => `r${i}`) })).toThrow(/at most 8 extended/);
    await expect(createKernel({ simd: true, taintWords: 9 })).rejects.toThrow(/taintWords/);
  });
});

describe("reasonMessages", () => {
  it("words counts like kube-scheduler's FailedScheduling diagnosis", () => {
    const counts = new Int32Array(16);
    counts[4] = 4990; counts[1] = 10; counts[8] = 2; counts[7] = 5;
    expect(reasonMessages(counts, ["nvidia.com/gpu"])).toEqual([
      [4990, "Insufficient cpu"], [2, "Insufficient nvidia.com/gpu"], [10, "node(s) had untolerated taint"],
    ]);
  });
});
