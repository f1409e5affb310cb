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
// - dockerode (docker runtime) is bundled too, into dockerode.cjs beside the agent (one file instead
//   of ~40 CommonJS modules: ~1 MB less code, and no module-resolution loop hot enough to bring in
//   the V8 optimizing compiler, ~3.5 MB). Its BuildKit session, SSH, tar-fs and dockerignore modules
//   stay outside it, required by path, so src/kubelet/runtimes/docker/client.ts can still defer them;
//   that module loads `./dockerode.cjs` beside the bundle when it exists, else the package.
// - The freshness check and any rebuild run in a short-lived child process (`node bin/_agent.js
//   --ensure`, ~0.1 s per start): esbuild's JavaScript API and the build's output (~19 MB of RSS)
//   never stay in the agent process, and neither do the V8 optimizing compilers' code pages (~3.5 MB
//   of the node binary), which a loop of ~150 statSync calls in the agent itself was enough to
//   bring in.
// - JavaScript runs in V8's interpreter and baseline compiler only (`--max-opt=1`): the agent's
//   work is light, but after a few minutes of idling (lease renewals, node status) V8 tiered a few
//   functions up to TurboFan anyway, which paged in its code and grew the heap: idle RSS went
//   53 -> 60 MiB within 5 minutes; with the flag it stays at 53-55 MiB (8-minute runs).
//
// `TUG_AGENT_V8_FLAGS` passes V8 flags NODE_OPTIONS refuses, after the defaults above (so
// `--max-opt=999` brings the optimizing compiler back), e.g. `--trace-opt` for diagnostics.
//
// `runBundledAgent()` returns false (after one line on stderr) when the bundle cannot be built or
// written (e.g. a read-only install); bin/tug.js then runs the TypeScript sources through tsx.
//
// `node bin/_agent.js --analyze [module...]` prints what the bundle holds (bytes per input, largest
// first) and, for each module named (a repo-relative path or a package name), the import chain that
// pulls it in — the way to see why something is in the agent's memory.
import { spawnSync } from "node:child_process";
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
  for (const file of [...Object.keys(entries).map((name) => `${name}.mjs`), "dockerode.cjs"]) {
    try {
      statSync(join(outDir, file));
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

function buildResult() {
  const esbuild = createRequire(import.meta.url)("esbuild");
  return esbuild.buildSync({
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
    absWorkingDir: repo,
  });
}

/** dockerode as one CommonJS file; the modules client.ts defers stay external, required by relative path. */
function buildDockerode() {
  const esbuild = createRequire(import.meta.url)("esbuild");
  const fromRepo = createRequire(join(repo, "package.json"));
  return esbuild.build({
    entryPoints: [fromRepo.resolve("dockerode")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: join(outDir, "dockerode.cjs"),
    write: false,
    metafile: true,
    minifyWhitespace: true,
    charset: "ascii",
    legalComments: "none",
    logLevel: "silent",
    absWorkingDir: repo,
    plugins: [{
      name: "deferred-modules",
      setup(b) {
        b.onResolve({ filter: /^(\.\/session|\.\/ssh|tar-fs|@balena\/dockerignore)$/ }, (a) => {
          const rel = relative(outDir, createRequire(a.importer).resolve(a.path)).split("\\").join("/");
          return { path: rel.startsWith(".") ? rel : `./${rel}`, external: true };
        });
      },
    }],
  });
}

async function build() {
  const r = buildResult();
  const d = await buildDockerode(); // plugins need the asynchronous API
  mkdirSync(outDir, { recursive: true });
  for (const f of [...r.outputFiles, ...d.outputFiles]) {
    writeAtomic(f.path, f.text.replace(/[^\x00-\xff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  }
  const inputs = {};
  for (const file of [...Object.keys(r.metafile.inputs), ...Object.keys(d.metafile.inputs)]) {
    const abs = resolve(repo, file);
    const st = statSync(abs);
    inputs[relative(repo, abs)] = [st.size, st.mtimeMs];
  }
  writeAtomic(join(outDir, "manifest.json"), JSON.stringify({ inputs }));
}

/** Runs `tug agent` from the bundle; false when the bundle is not usable (the caller falls back to tsx). */
export async function runBundledAgent() {
  v8.setFlagsFromString("--semi-space-growth-factor=1");
  v8.setFlagsFromString("--max-opt=1");
  // Overrides and diagnostics: V8 flags NODE_OPTIONS does not take (e.g. TUG_AGENT_V8_FLAGS=--trace-opt).
  for (const flag of (process.env.TUG_AGENT_V8_FLAGS ?? "").split(/\s+/)) if (flag !== "") v8.setFlagsFromString(flag);
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--ensure"], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim().split("\n")[0] || `exit ${r.status ?? r.signal}`);
    process.stderr.write(`tug: agent bundle unavailable (${why}); running the TypeScript sources through tsx\n`);
    return false;
  }
  await import(pathToFileURL(join(outDir, "agent.mjs")).href);
  return true;
}

/** `--analyze [module...]`: bytes per bundle input, largest first, and why each module is in the bundle. */
function analyze(targets) {
  const { metafile } = buildResult();
  const out = Object.values(metafile.outputs)[0];
  const rows = Object.entries(out.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
  const total = rows.reduce((n, [, v]) => n + v.bytesInOutput, 0);
  console.log(`agent bundle: ${total} bytes from ${rows.length} inputs; packages loaded at run time: ${[...new Set(out.imports.filter((i) => !i.path.startsWith("node:")).map((i) => i.path))].join(", ") || "none"}`);
  for (const [file, v] of rows.slice(0, 40)) console.log(`${String(v.bytesInOutput).padStart(9)}  ${file}`);
  const entry = relative(repo, entries.agent);
  const from = new Map([[entry, undefined]]);
  const queue = [entry];
  while (queue.length > 0) {
    const f = queue.shift();
    for (const i of metafile.inputs[f]?.imports ?? []) {
      if (!from.has(i.path)) {
        from.set(i.path, f);
        queue.push(i.path);
      }
    }
  }
  for (const target of targets) {
    if (!from.has(target)) {
      console.log(`${target}: not in the agent bundle`);
      continue;
    }
    const chain = [];
    for (let f = target; f !== undefined; f = from.get(f)) chain.unshift(f);
    console.log(`${target}: ${chain.join(" -> ")}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === "--ensure" || process.argv[2] === "--build") {
    try {
      if (process.argv[2] === "--build" || !fresh()) await build();
    } catch (err) {
      // one line: the parent quotes it in its "bundle unavailable" message
      process.stderr.write(`${err instanceof Error ? err.message.split("\n")[0] : String(err)}\n`);
      process.exitCode = 1;
    }
  }
  else if (process.argv[2] === "--analyze") analyze(process.argv.slice(3));
  else {
    process.stderr.write("usage: node bin/_agent.js --ensure | --build | --analyze [module...]\n");
    process.exitCode = 2;
  }
}
