import { FakeClock } from "../../runtime/clock.ts";
import { type RuntimeCapabilities, type RuntimeRecipes, runRuntimeConformance } from "../../runtime/conformance.ts";
import { TimerQueue } from "../../runtime/timers.ts";
import { HollowHost } from "./host.ts";
import { HollowRuntime } from "./runtime.ts";

/** What the hollow runtime can do (also documented in docs/runtime.md). */
export const HOLLOW_CAPABILITIES: RuntimeCapabilities = {
  exec: true,
  execStdin: true,
  execTty: true,
  attach: true,
  portForward: false,
  events: true,
  oomKill: true,
};

const recipes: RuntimeRecipes = {
  sleeper: { image: "hollow/sleep" },
  exitWith: (code) => ({ image: "busybox", command: ["sh", "-c", `exit ${code}`] }),
  printer: (lines) => ({
    image: "busybox",
    command: ["sh", "-c", lines.map((l) => `echo ${l.text}${l.stream === "stderr" ? " >&2" : ""}`).join("; ")],
  }),
  lines: (count) => ({ image: `hollow/lines:${count}` }),
  ticker: (ms) => ({ image: `hollow/ticker:${ms}` }),
  ignoresTerm: { image: "busybox", command: ["sh", "-c", "trap '' TERM; sleep infinity"] },
  oom: { image: "hollow/oom:500" },
  missingImage: "hollow/fail-pull",
};

runRuntimeConformance(
  "hollow",
  async (opts) => {
    const clock = new FakeClock();
    const host = new HollowHost({ timers: new TimerQueue(clock), logs: "output", logRotation: opts.logRotation, startLatencyMs: 20, startJitterMs: 10 });
    let runtime = new HollowRuntime(host);
    return {
      get runtime() {
        return runtime;
      },
      recipes,
      async wait(ms) {
        clock.advance(ms);
        // Let promise continuations and file-polling readers run.
        await new Promise((r) => setTimeout(r, 1));
      },
      async reopen() {
        await runtime.close();
        runtime = new HollowRuntime(host);
        return runtime;
      },
      async cleanup() {
        await runtime.close();
        host.timers.clear();
      },
    };
  },
  HOLLOW_CAPABILITIES,
);
