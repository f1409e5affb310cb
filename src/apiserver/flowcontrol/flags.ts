/** `tug server` / `tug up` flags for flow control (upstream kube-apiserver's names and defaults). */
import type { GateOptions } from "./controller.ts";

export interface FlowControlFlags {
  maxRequestsInflight?: string;
  maxMutatingRequestsInflight?: string;
  /** Commander gives `true` for a bare flag, the string for `--flag=value`. */
  enablePriorityAndFairness?: string | boolean;
}

function count(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v.trim()) || Number(v) > 1_000_000) throw new Error(`--${name} must be an integer from 0 to 1000000, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Parses the flags; throws `Error` with a one-line message naming the bad flag. */
export function parseFlowControlFlags(f: FlowControlFlags): GateOptions {
  const ro = count("max-requests-inflight", f.maxRequestsInflight);
  const mu = count("max-mutating-requests-inflight", f.maxMutatingRequestsInflight);
  let apf: boolean | undefined;
  const e = f.enablePriorityAndFairness;
  if (e === true || e === "true") apf = true;
  else if (e === "false") apf = false;
  else if (e !== undefined) throw new Error(`--enable-priority-and-fairness must be true or false, got ${JSON.stringify(e)}`);
  return {
    ...(ro !== undefined ? { maxRequestsInflight: ro } : {}),
    ...(mu !== undefined ? { maxMutatingRequestsInflight: mu } : {}),
    ...(apf !== undefined ? { enablePriorityAndFairness: apf } : {}),
  };
}
