/**
 * `npm run bench -- <name> [args…]` runs bench/<name>.ts in its own process.
 * Each benchmark prints a table and ends with one `RESULT key=value …` line.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3));
if (!name || !existsSync(join(here, `${name}.ts`))) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(", ") || "(none)"}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--expose-gc", join(here, `${name}.ts`), ...rest], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
