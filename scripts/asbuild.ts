/**
 * Compiles every AssemblyScript kernel in wasm/ (top-level `*.ts` files) to build/wasm/<name>.wasm.
 * An empty wasm/ is a successful, empty build.
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
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "assemblyscript", "bin", "asc.js"), join(src, file),
      "--config", join(src, "asconfig.json"), "--target", "release", "--outFile", join(out, `${name}.wasm`)],
    { stdio: "inherit" },
  );
}
console.log(`asbuild: ${kernels.length} kernel(s) built into build/wasm/`);
