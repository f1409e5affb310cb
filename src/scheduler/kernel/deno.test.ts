/** The kernels load and agree under Deno too (the facade reads the .wasm runtime-neutrally). */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const deno = fileURLToPath(new URL("../../../node_modules/@deno/linux-x64-glibc/deno", import.meta.url));
const script = fileURLToPath(new URL("./_deno_smoke.ts", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));

describe("scheduler kernel under Deno", () => {
  it.skipIf(!existsSync(deno))("loads WASM scalar + SIMD and agrees with the twin", () => {
    const r = spawnSync(deno, ["run", "--allow-read", script], {
      cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
    });
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.trim().split("\n").pop() ?? "";
    const res = JSON.parse(line) as { runtime: string; compared: number; mismatches: number };
    expect(res.runtime).toMatch(/^deno 2\./);
    expect(res.compared).toBe(20);
    expect(res.mismatches).toBe(0);
  }, 60_000);
});
