/**
 * `deno task server …` runs the same control plane on Deno with the Deno.serve transport. We run
 * the task's command line (from deno.json) with the Deno binary directly, so the PID we signal is
 * the server's, then drive it with kubectl.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DENO_BIN, Kubectl, startTug, tableRows, type TugProcess } from "./harness.ts";

let tug: TugProcess;
let k: Kubectl;

describe.runIf(existsSync(DENO_BIN))("tug server on Deno", () => {
  beforeAll(async () => {
    // the first run type-checks nothing but still compiles and caches the module graph
    tug = await startTug({ runtime: "deno", timeoutMs: 120_000 });
    k = new Kubectl("1.32", tug.kubeconfig);
  }, 150_000);

  afterAll(async () => {
    await tug?.stop();
    k?.cleanup();
  });

  it("serves with the deno transport", () => {
    expect(tug.stdout()).toMatch(/API serving at https:\/\/127\.0\.0\.1:\d+ \(transport deno/);
  });

  it("kubectl creates, lists, watches and deletes", async () => {
    expect(await k.ok(["create", "namespace", "on-deno"])).toBe("namespace/on-deno created\n");
    expect(await k.ok(["-n", "on-deno", "create", "configmap", "c", "--from-literal=a=b"])).toBe("configmap/c created\n");
    const rows = tableRows(await k.ok(["-n", "on-deno", "get", "cm"]));
    expect(rows[0]).toEqual(["NAME", "DATA", "AGE"]);
    expect(rows[1]?.slice(0, 2)).toEqual(["c", "1"]);
    const w = k.background(["-n", "on-deno", "get", "cm", "-w"]);
    try {
      await w.waitFor(/^c\s+1\s+\S+$/m);
      await k.ok(["-n", "on-deno", "create", "configmap", "d"]);
      await w.waitFor(/^d\s+0\s+\S+$/m);
    } finally {
      await w.stop();
    }
    expect(await k.ok(["-n", "on-deno", "delete", "cm", "c"])).toBe('configmap "c" deleted\n');
    expect(await k.fails(["-n", "on-deno", "get", "cm", "c"])).toBe('Error from server (NotFound): configmaps "c" not found');
  });

  it("stops on SIGTERM with exit 0", async () => {
    expect(await tug.stop("SIGTERM", 20_000)).toEqual({ code: 0, signal: null });
  });
});
