import { describe, it, expect } from "vitest";
import { parseFlowControlFlags } from "./flags.ts";

describe("parseFlowControlFlags", () => {
  it("parses the limits and the APF switch", () => {
    expect(parseFlowControlFlags({})).toEqual({});
    expect(parseFlowControlFlags({ maxRequestsInflight: "100", maxMutatingRequestsInflight: "0", enablePriorityAndFairness: "false" }))
      .toEqual({ maxRequestsInflight: 100, maxMutatingRequestsInflight: 0, enablePriorityAndFairness: false });
    expect(parseFlowControlFlags({ enablePriorityAndFairness: true })).toEqual({ enablePriorityAndFairness: true });
  });
  it("names the bad flag", () => {
    expect(() => parseFlowControlFlags({ maxRequestsInflight: "-1" })).toThrow('--max-requests-inflight must be an integer from 0 to 1000000, got "-1"');
    expect(() => parseFlowControlFlags({ maxMutatingRequestsInflight: "lots" })).toThrow("--max-mutating-requests-inflight must be an integer");
    expect(() => parseFlowControlFlags({ enablePriorityAndFairness: "yes" })).toThrow('--enable-priority-and-fairness must be true or false, got "yes"');
  });
});
