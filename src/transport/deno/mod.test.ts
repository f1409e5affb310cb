/**
 * Runs the shared conformance suite against the Deno adapter: each server is a Deno child process
 * (the binary from the `deno` npm package) serving the conformance handler.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { runTransportConformance, type StartServer } from "../conformance.ts";
import type { TransportCapabilities } from "../types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const denoBin = join(root, "node_modules/@deno/linux-x64-glibc/deno");

// Mirrors src/transport/deno/mod.ts (which Node cannot import: it is Deno-only code).
const capabilities: TransportCapabilities = { tlsH2: true, h2c: true, http1Plaintext: true, clientCertificates: false, upgrade: false };

const startDeno: StartServer = async (opts) => {
  const args = ["run", "--no-lock", "--allow-net", "--allow-read", "--allow-env", join(here, "serve-conformance.ts")];
  let dir: string | undefined;
  if (opts.tls) {
    dir = mkdtempSync(join(tmpdir(), "tug-deno-tls-"));
    writeFileSync(join(dir, "tls.crt"), opts.tls.cert);
    writeFileSync(join(dir, "tls.key"), opts.tls.key, { mode: 0o600 });
    args.push(join(dir, "tls.crt"), join(dir, "tls.key"));
  }
  const child = spawn(denoBin, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`deno did not start within 20 s: ${stderr}`)), 20_000);
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`deno exited with ${code}: ${stderr}`));
    });
  });
  return {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    async close(): Promise<void> {
      if (child.exitCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
};

if (existsSync(denoBin)) {
  runTransportConformance("deno", capabilities, startDeno);
} else {
  describe("transport conformance: deno", () => {
    it.skip(`deno binary missing at ${denoBin}`, () => undefined);
  });
}
