/**
 * HTTP adapter benchmark: a hello handler on each adapter, loaded from loopback by `wrk`
 * (HTTP/1.1) and `h2load` (h2c and h2 over TLS). Each server runs in its own process; every
 * load run lasts RUN_SECONDS, and the median of RUNS runs is reported, with the ratio against
 * node-http2 for the same protocol.
 *
 *   npm run bench -- transport            (needs Debian wrk and nghttp2-client)
 *
 * Internally, `transport.ts --serve <adapter> [certFile keyFile]` is the server process.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePki } from "../src/pki/mod.ts";
import type { Transport } from "../src/transport/types.ts";

const RUN_SECONDS = 5;
const RUNS = 3;
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const denoBin = join(root, "node_modules/@deno/linux-x64-glibc/deno");

type Proto = "http/1.1" | "h2c" | "h2+tls";
interface Adapter {
  name: string;
  protos: Proto[];
}
const ADAPTERS: Adapter[] = [
  { name: "node-http2", protos: ["http/1.1", "h2c", "h2+tls"] },
  { name: "tug-h2", protos: ["http/1.1", "h2c", "h2+tls"] },
  { name: "uws", protos: ["http/1.1"] },
  { name: "deno", protos: ["http/1.1", "h2c", "h2+tls"] },
];

async function serveMode(name: string, certFile?: string, keyFile?: string): Promise<void> {
  let transport: Transport;
  if (name === "node-http2") transport = (await import("../src/transport/node-http2/mod.ts")).nodeHttp2Transport;
  else if (name === "tug-h2") transport = (await import("../src/transport/tug-h2/mod.ts")).tugH2Transport;
  else if (name === "uws") transport = (await import("../src/transport/uws/mod.ts")).uwsTransport;
  else throw new Error(`unknown in-process adapter ${name}`);
  const hello = new TextEncoder().encode("hello\n");
  const tls = certFile && keyFile ? { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") } : undefined;
  const server = await transport.listen(
    () => Promise.resolve({ status: 200, headers: { "content-type": "text/plain" }, body: hello }),
    { host: "127.0.0.1", port: 0, ...(tls ? { tls } : {}) },
  );
  console.log(`LISTENING ${server.port}`);
  process.once("SIGTERM", () => void server.close().then(() => process.exit(0)));
}

function startServer(adapter: string, tls: { cert: string; key: string } | undefined): Promise<{ port: number; child: ChildProcess }> {
  const tlsArgs = tls ? [tls.cert, tls.key] : [];
  const child =
    adapter === "deno"
      ? spawn(denoBin, ["run", "--no-lock", "--allow-net", "--allow-read", join(root, "src/transport/deno/serve-hello.ts"), ...tlsArgs], { cwd: root, stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", adapter, ...tlsArgs], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolvePort, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${adapter} did not start in 30 s`)), 30_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort({ port: Number(m[1]), child });
      }
    });
    child.once("exit", (code) => reject(new Error(`${adapter} exited with ${code}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}

/** One load run; returns requests per second. */
function load(proto: Proto, port: number): Promise<number> {
  const [cmd, args, re] =
    proto === "http/1.1"
      ? (["wrk", ["-t1", "-c50", `-d${RUN_SECONDS}s`, `http://127.0.0.1:${port}/`], /Requests\/sec:\s+([\d.]+)/] as const)
      : ([
          "h2load",
          ["-t1", "-c10", "-m10", "-D", String(RUN_SECONDS), `${proto === "h2c" ? "http" : "https"}://127.0.0.1:${port}/`],
          /finished in [\d.]+\w+, ([\d.]+) req\/s/,
        ] as const);
  return new Promise((resolveRate, reject) => {
    const child = spawn(cmd, [...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), (RUN_SECONDS + 20) * 1000);
    child.once("exit", () => {
      clearTimeout(timer);
      const m = re.exec(out);
      if (!m) return reject(new Error(`${cmd} output not understood:\n${out}`));
      const failed = /(\d+) failed/.exec(out);
      if (failed && Number(failed[1]) > 0) return reject(new Error(`${cmd}: ${failed[1]} requests failed\n${out}`));
      resolveRate(Number(m[1]));
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  for (const tool of ["wrk", "h2load"]) {
    if (spawnSync(tool, ["--version"]).error) throw new Error(`${tool} is missing: apt-get install -y wrk nghttp2-client`);
  }
  const dir = mkdtempSync(join(tmpdir(), "tug-bench-transport-"));
  try {
    await ensurePki(dir, { hosts: [] });
    const tlsFiles = { cert: join(dir, "server.crt"), key: join(dir, "server.key") };
    const results = new Map<string, number>(); // `${adapter} ${proto}` -> median req/s
    for (const a of ADAPTERS) {
      for (const proto of a.protos) {
        const { port, child } = await startServer(a.name, proto === "h2+tls" ? tlsFiles : undefined);
        try {
          await load(proto, port).catch(() => 0); // warm-up (1 run, discarded)
          const runs: number[] = [];
          for (let i = 0; i < RUNS; i++) runs.push(await load(proto, port));
          results.set(`${a.name} ${proto}`, median(runs));
          console.error(`${a.name.padEnd(11)} ${proto.padEnd(9)} runs ${runs.map((r) => Math.round(r)).join(" / ")} req/s`);
        } finally {
          await stopServer(child);
        }
      }
    }
    console.log(`\n| adapter | protocol | req/s (median of ${RUNS} × ${RUN_SECONDS} s) | vs node-http2 |`);
    console.log("|---|---|---:|---:|");
    const fields: string[] = [];
    for (const a of ADAPTERS) {
      for (const proto of a.protos) {
        const rate = results.get(`${a.name} ${proto}`) ?? 0;
        const base = results.get(`node-http2 ${proto}`) ?? 0;
        const ratio = base > 0 ? rate / base : 0;
        console.log(`| ${a.name} | ${proto} | ${Math.round(rate).toLocaleString("en-US")} | ${ratio.toFixed(2)}x |`);
        fields.push(`${a.name}_${proto.replace(/[^a-z0-9]+/g, "")}=${Math.round(rate)}`);
      }
    }
    console.log(`RESULT ${fields.join(" ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === "--serve") {
  await serveMode(argv[1] ?? "", argv[2], argv[3]);
} else {
  await main();
}
