/**
 * Compiles every AssemblyScript kernel in wasm/ (top-level `*.ts` files) twice:
 * build/wasm/<name>.wasm with the `release` target (SIMD) and build/wasm/<name>.scalar.wasm with
 * the `scalar` target (no SIMD, for benchmarks and engines without SIMD). Kernels branch on the
 * compile-time constant `ASC_FEATURE_SIMD`. An empty wasm/ is a successful, empty build.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "wasm");
const out = join(root, "build", "wasm");
mkdirSync(out, { recursive: true });

const kernels = readdirSync(src).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
for (const file of kernels) {
  const name = file.slice(0, -3);
  for (const [target, suffix] of [["release", ""], ["scalar", ".scalar"]] as const) {
    execFileSync(
      process.execPath,
      [join(root, "node_modules", "assemblyscript", "bin", "asc.js"), join(src, file),
        "--config", join(src, "asconfig.json"), "--target", target, "--outFile", join(out, `${name}${suffix}.wasm`)],
      { stdio: "inherit" },
    );
  }
}
console.log(`asbuild: ${kernels.length} kernel(s) built into build/wasm/ (SIMD + scalar each)`);
