import { runRuntimeConformance } from "../../runtime/conformance.ts";
import { hollowFactory } from "./_harness.ts";
import { HOLLOW_CAPABILITIES } from "./runtime.ts";

runRuntimeConformance("hollow", hollowFactory(), HOLLOW_CAPABILITIES);

// The same runtime declaring less: checks the suite's "declared unsupported" cases.
runRuntimeConformance("hollow (restricted)", hollowFactory(true), {
  ...HOLLOW_CAPABILITIES,
  exec: false,
  execStdin: false,
  execTty: false,
  attach: false,
  events: false,
  oomKill: false,
});
