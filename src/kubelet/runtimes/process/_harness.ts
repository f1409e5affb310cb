/** The conformance harness of the process runtime (used by the test files here). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RuntimeFactory, RuntimeRecipes } from "../../runtime/conformance.ts";
import { findProcesses, killGroup } from "./proc.ts";
import { createProcessRuntime, type ProcessRuntime, type ProcessRuntimeOptions } from "./runtime.ts";
import { isShimUnder } from "./shim.ts";

const sh = (script: string): { image: string; command: string[] } => ({ image: "busybox", command: ["sh", "-c", script] });

/** Node script of the `tugboat/hog` test image: grows its heap by 2 MiB every 20 ms. */
const HOG = "const a=[];setInterval(()=>{a.push(Buffer.alloc(2<<20,1))},20)";

export function processRecipes(withOom: boolean): RuntimeRecipes {
  return {
    sleeper: { image: "busybox", command: ["sleep", "3600"] },
    exitWith: (code) => sh(`exit ${code}`),
    printer: (lines) => sh(lines.map((l) => `echo ${l.text}${l.stream === "stderr" ? " >&2" : ""}`).join("; ")),
    lines: (count) => sh(`i=0; while [ $i -lt ${count} ]; do echo "line $i"; i=$((i+1)); done`),
    ticker: (ms) => sh(`while :; do echo tick; sleep ${ms / 1000}; done`),
    ignoresTerm: sh("trap '' TERM; sleep 3600"),
    ...(withOom ? { oom: { image: "tugboat/hog" } } : {}),
    echoServer: (port) => ({
      image: "tugboat/node",
      args: ["-e", `require("net").createServer((s)=>s.pipe(s)).listen(${port}, process.env.POD_IP)`],
    }),
    missingImage: "tugboat/no-such-image",
  };
}

/** An image root with the `tugboat/hog` image (64 MiB memory limit from its image.json). */
export function makeImageRoot(dir: string): string {
  const hog = join(dir, "docker.io", "tugboat", "hog", "latest");
  mkdirSync(hog, { recursive: true });
  writeFileSync(join(hog, "image.json"), JSON.stringify({ entrypoint: [process.execPath, "-e", HOG], resources: { memoryBytesLimit: 64 * 1024 * 1024 } }));
  return dir;
}

/** A random /24 inside 127.0.0.0/8, so test files running in parallel do not share addresses. */
export function randomPool(): string {
  return `127.${20 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 256)}.0/24`;
}

/** Kills every shim (and its group) under `dataDir`: test cleanup. */
export function killAllUnder(dataDir: string): void {
  for (const pid of findProcesses((argv) => isShimUnder(argv, dataDir))) killGroup(pid, "SIGKILL");
}

export interface ProcessHarnessExtras {
  readonly dataDir: string;
}

/** A harness over a fresh data dir; `extra` options are merged into the runtime options. */
export function processFactory(extra: Partial<ProcessRuntimeOptions> = {}, withOom = true): RuntimeFactory {
  return async (opts) => {
    const dataDir = mkdtempSync(join(tmpdir(), "tug-proc-"));
    const imageRoot = makeImageRoot(join(dataDir, "images"));
    const options: ProcessRuntimeOptions = { dataDir: join(dataDir, "state"), imageRoot, podAddressPool: randomPool(), logRotation: opts.logRotation, ...extra };
    let rt: ProcessRuntime = await createProcessRuntime(options);
    return {
      get runtime() {
        return rt;
      },
      recipes: processRecipes(withOom && rt.capabilities.oomKill),
      wait: (ms) => new Promise((r) => setTimeout(r, ms)),
      async reopen() {
        await rt.close();
        rt = await createProcessRuntime(options);
        return rt;
      },
      async cleanup() {
        await rt.close();
        killAllUnder(options.dataDir);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  };
}
