/**
 * Scheduler kernel benchmark: filter + score of every node for one pod, 5,000 nodes, default
 * profile. Reports median ns per node for the TypeScript twin, WASM scalar and WASM SIMD, and the
 * ratio against the twin, on Node and on Deno (same measurement script, spawned).
 * Goal (issue 3): WASM SIMD ≥ 4× the TypeScript twin.
 * `npm run bench -- kernel`
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { measure, type Measurement, NODES } from "./_kernel_measure.ts";

const GOAL = 4;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

function deno(): Measurement | string {
  const bin = join(root, "node_modules", "@deno", "linux-x64-glibc", "deno");
  if (!existsSync(bin)) return `deno binary not found at ${bin}`;
  const r = spawnSync(bin, ["run", "--allow-read", "--allow-env", join(here, "_kernel_measure.ts")], {
    cwd: root, encoding: "utf8", timeout: 300_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
  });
  if (r.status !== 0) return `deno failed (${r.status ?? r.signal}): ${r.stderr.slice(-500)}`;
  const line = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as Measurement;
}

const results: Measurement[] = [await measure(`node ${process.versions.node}`)];
const d = deno();
if (typeof d === "string") console.error(`Deno run skipped: ${d}`);
else results.push(d);

const fmt = (x: number): string => x.toFixed(2);
console.log(`\nscheduler kernel: filter+score per pod over ${NODES} nodes, median ns/node (ratio vs TS twin)\n`);
console.log("| runtime | scenario | TS twin | WASM scalar | WASM SIMD | SIMD µs/pod |");
console.log("|---|---|---:|---:|---:|---:|");
const kv: string[] = [];
let goalMet = true;
for (const m of results) {
  const rt = m.runtime.split(" ")[0] ?? m.runtime;
  for (const [scenario, row] of Object.entries(m.nsPerNode)) {
    const ts = row["ts"] ?? NaN, sc = row["wasm-scalar"] ?? NaN, simd = row["wasm-simd"] ?? NaN;
    console.log(`| ${m.runtime} | ${scenario} | ${fmt(ts)} (1.00x) | ${fmt(sc)} (${fmt(ts / sc)}x) | ${fmt(simd)} (${fmt(ts / simd)}x) | ${((simd * NODES) / 1000).toFixed(1)} |`);
    kv.push(`${rt}_${scenario}_ts_ns=${fmt(ts)}`, `${rt}_${scenario}_scalar_ns=${fmt(sc)}`, `${rt}_${scenario}_simd_ns=${fmt(simd)}`,
      `${rt}_${scenario}_ratio_simd=${fmt(ts / simd)}`, `${rt}_${scenario}_ratio_scalar=${fmt(ts / sc)}`);
    if (ts / simd < GOAL) goalMet = false;
  }
}
for (const m of results) {
  console.log(`calibration (${m.runtime}): trivial JS division loop ${fmt(m.calibrationNs)} ns/iteration (CPU time)`);
  kv.push(`${m.runtime.split(" ")[0] ?? m.runtime}_calibration_ns=${fmt(m.calibrationNs)}`);
}
console.log(`\nGoal WASM SIMD >= ${GOAL}x the TypeScript twin: ${goalMet ? "met" : "NOT met"} in every row.`);
console.log(`RESULT nodes=${NODES} ${kv.join(" ")} goal_ratio=${GOAL} goal_met=${goalMet}`);
