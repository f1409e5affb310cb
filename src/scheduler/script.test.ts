/**
 * Golden scripted scheduling runs: every testdata/*.txt script runs on the TypeScript twin kernel
 * and on both WASM kernels; all must print exactly the recorded output. `UPDATE_GOLDEN=1` rewrites
 * the expected outputs from the twin run (review the diff).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createKernel, createTwinKernel, type Kernel, type KernelOptions } from "./kernel/mod.ts";
import { parseScript, renderScript, ScriptRunner } from "./scripttest.ts";

const dir = new URL("./testdata/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".txt")).sort();
const update = process.env["UPDATE_GOLDEN"] === "1";
const opts: KernelOptions = { extendedResources: ["example.com/gpu"], taintWords: 1 };

async function kernels(): Promise<Kernel[]> {
  const out: Kernel[] = [createTwinKernel(opts)];
  for (const simd of [false, true]) {
    try { out.push(await createKernel({ ...opts, simd })); } catch { /* WASM not built: twin only */ }
  }
  return out;
}

describe("scheduler golden scripts", () => {
  for (const f of files) {
    it(f, async () => {
      const text = readFileSync(new URL(f, dir), "utf8");
      const header = text.split("\n").filter((l, i, all) => l.startsWith("#") && all.slice(0, i).every((x) => x.startsWith("#"))).join("\n");
      const blocks = parseScript(text);
      const runs: string[][] = [];
      for (const k of await kernels()) runs.push(await new ScriptRunner(k).run(blocks));
      const twin = runs[0] ?? [];
      if (update) writeFileSync(new URL(f, dir), renderScript(header ? `${header}\n\n` : "", blocks, twin));
      for (const r of runs.slice(1)) expect(r).toEqual(twin);
      if (!update) blocks.forEach((b, i) => expect(`${b.command}\n${twin[i]}`).toBe(`${b.command}\n${b.expected}`));
    });
  }
});

describe("script parser", () => {
  it("rejects a command without ----", () => {
    expect(() => parseScript("node add n1\nschedule\n")).toThrow(/expected "----"/);
  });
  it("reports unknown commands in the output", async () => {
    const out = await new ScriptRunner(createTwinKernel(opts)).run(parseScript("frobnicate\n----\n"));
    expect(out[0]).toBe('error: unknown command "frobnicate"');
  });
});
