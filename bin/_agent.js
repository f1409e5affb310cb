// `tug agent` launcher (used by bin/tug.js): runs the node agent as plain JavaScript instead of
// through the tsx loader, which alone costs ~33 MB of RSS (a loader thread with its own V8 heap).
//
// - src/kubelet/main.ts (the agent-only CLI) is bundled with esbuild (a dependency of tsx) into
//   node_modules/.cache/tug-agent/; packages stay external (loaded from node_modules as usual).
//   The bundle is rebuilt when any of its input files changed (sizes and mtimes are kept in
//   manifest.json beside it); several agents starting at once may each rebuild, and every file is
//   written to a temporary name and renamed, so a reader never sees a partial file.
// - @peculiar/x509 is imported dynamically by src/pki (only when a certificate must be issued; the
//   agent normally reads the control plane's kubelet-serving pair), so the Reflect polyfill it
//   needs, bundled as ordinary code, always runs first.
// - Characters above U+00FF are escaped in the output, so V8 keeps the bundle's source as a
//   one-byte string (a single such character in a regex literal doubled its 1.4 MB source).
// - The young generation is kept at its initial 1 MB semi-space (`--semi-space-growth-factor=1`,
//   set at run time, before the bundle loads): an agent allocates little, and the default growth
//   to 8 MB semi-spaces during start-up was ~10 MB of RSS that stayed.
//
// `runBundledAgent()` returns false (after one line on stderr) when the bundle cannot be built or
// written (e.g. a read-only install); bin/tug.js then runs the TypeScript sources through tsx.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(repo, "node_modules", ".cache", "tug-agent");
const entries = { agent: join(repo, "src/kubelet/main.ts") };

/** True when every input recorded in the manifest still has the recorded size and mtime. */
function fresh() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8"));
  } catch {
    return false;
  }
  if (manifest === null || typeof manifest !== "object" || typeof manifest.inputs !== "object" || manifest.inputs === null) return false;
  for (const name of Object.keys(entries)) {
    try {
      statSync(join(outDir, `${name}.mjs`));
    } catch {
      return false;
    }
  }
  for (const [file, rec] of Object.entries(manifest.inputs)) {
    try {
      const st = statSync(join(repo, file));
      if (!Array.isArray(rec) || st.size !== rec[0] || st.mtimeMs !== rec[1]) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function writeAtomic(path, data) {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function build() {
  const esbuild = createRequire(import.meta.url)("esbuild");
  const r = esbuild.buildSync({
    entryPoints: entries,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    write: false,
    metafile: true,
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    charset: "ascii",
    legalComments: "none",
    logLevel: "silent",
  });
  mkdirSync(outDir, { recursive: true });
  for (const f of r.outputFiles) {
    writeAtomic(f.path, f.text.replace(/[^\x00-\xff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  }
  const inputs = {};
  for (const file of Object.keys(r.metafile.inputs)) {
    const abs = resolve(process.cwd(), file);
    const st = statSync(abs);
    inputs[relative(repo, abs)] = [st.size, st.mtimeMs];
  }
  writeAtomic(join(outDir, "manifest.json"), JSON.stringify({ inputs }));
}

/** Runs `tug agent` from the bundle; false when the bundle is not usable (the caller falls back to tsx). */
export async function runBundledAgent() {
  v8.setFlagsFromString("--semi-space-growth-factor=1");
  try {
    if (!fresh()) build();
  } catch (err) {
    process.stderr.write(`tug: agent bundle unavailable (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); running the TypeScript sources through tsx\n`);
    return false;
  }
  await import(pathToFileURL(join(outDir, "agent.mjs")).href);
  return true;
}
