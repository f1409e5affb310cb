/** The conformance harness for the hollow runtime (used by the conformance test files here). */
import { FakeClock } from "../../runtime/clock.ts";
import type { RuntimeFactory, RuntimeRecipes } from "../../runtime/conformance.ts";
import { runtimeErrors } from "../../runtime/errors.ts";
import { TimerQueue } from "../../runtime/timers.ts";
import type { RuntimeService } from "../../runtime/types.ts";
import { HollowHost } from "./host.ts";
import { HollowRuntime } from "./runtime.ts";

export const HOLLOW_RECIPES: RuntimeRecipes = {
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
  // Hollow CPU figures are simulated: any running container "uses" CPU.
  busy: { image: "hollow/sleep" },
};

/**
 * A hollow harness on a fake clock (with start latency and jitter, so the suite sees asynchronous
 * starts). `restrict` wraps the client so it declares less than it can: exec, attach and events
 * become unsupported, and there is no OOM recipe. That run checks the suite's "declared
 * unsupported" branches, which the docker and process runtimes may rely on.
 */
export function hollowFactory(restrict = false): RuntimeFactory {
  return async (opts) => {
    const clock = new FakeClock();
    const host = new HollowHost({ timers: new TimerQueue(clock), logs: "output", logRotation: opts.logRotation, startLatencyMs: 20, startJitterMs: 10 });
    const wrap = (rt: HollowRuntime): RuntimeService => {
      if (!restrict) return rt;
      return new Proxy(rt, {
        get(target, key) {
          if (key === "events") return undefined;
          if (key === "exec" || key === "attach") return async () => {
            throw runtimeErrors.unimplemented("hollow (restricted)", String(key));
          };
          const v: unknown = Reflect.get(target, key, target);
          // Methods use private fields, so they must run on the real instance.
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    };
    let runtime = new HollowRuntime(host);
    let client = wrap(runtime);
    const { oom: _oom, ...withoutOom } = HOLLOW_RECIPES;
    return {
      get runtime() {
        return client;
      },
      recipes: restrict ? withoutOom : HOLLOW_RECIPES,
      async wait(ms) {
        clock.advance(ms);
        // Let promise continuations and file-polling log readers run.
        await new Promise((r) => setTimeout(r, 1));
      },
      async reopen() {
        await runtime.close();
        runtime = new HollowRuntime(host);
        client = wrap(runtime);
        return client;
      },
      async cleanup() {
        await runtime.close();
        host.timers.clear();
      },
    };
  };
}
