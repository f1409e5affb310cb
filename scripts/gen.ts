/**
 * `npm run gen`: reads every proto/**\/*.proto and writes src/api/generated/ — TS interfaces
 * (<module>.ts), generated codecs (<module>.pb.ts), the schema table (schema.ts), the kinds table
 * (kinds.ts) and the codec index (codecs.ts). Deterministic: same protos, same bytes. See docs/proto.md.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "./gen/generate.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "proto");
const outDir = join(root, "src/api/generated");

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith(".proto")) out.push(p);
  }
  return out;
}

const started = performance.now();
const inputs = walk(protoDir)
  .map((p) => ({ path: relative(protoDir, p).split("\\").join("/"), text: readFileSync(p, "utf8") }))
  .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
let files: Map<string, string>;
try {
  files = generate(inputs);
} catch (e) {
  console.error(`gen: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
let written = 0;
for (const name of readdirSync(outDir)) {
  if (name.endsWith(".ts") && !files.has(name)) rmSync(join(outDir, name));
}
for (const [name, text] of files) {
  const p = join(outDir, name);
  if (existsSync(p) && readFileSync(p, "utf8") === text) continue;
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  written++;
}
console.log(`gen: ${inputs.length} proto files -> ${files.size} files in src/api/generated (${written} changed) in ${Math.round(performance.now() - started)} ms`);
