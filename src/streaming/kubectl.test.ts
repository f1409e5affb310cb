/**
 * End to end with the real kubectl binaries: the node-http2 transport on loopback with TLS, a
 * tiny handler answering what kubectl asks before exec/port-forward (discovery, the pod), and
 * the streaming entry points wired to an in-test fake command and a TCP echo server.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePki } from "../pki/mod.ts";
import { nodeHttp2Transport } from "../transport/node-http2/mod.ts";
import type { Handler, HttpResponse, Server } from "../transport/types.ts";
import { forEachPortForward } from "./portforward/session.ts";
import type { PortForwardStream } from "./portforward/types.ts";
import type { RemoteCommandSession } from "./remotecommand/types.ts";
import { handleExecUpgrade, handlePortForwardUpgrade } from "./upgrade.ts";

function kubectlDir(): string | undefined {
  try {
    const which = execFileSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
    return which === "" ? undefined : dirname(realpathSync(which));
  } catch {
    return undefined;
  }
}
const KDIR = kubectlDir();
const bin = (v: string): string => join(KDIR ?? "/nonexistent", `kubectl.${v}`);
const haveKubectl = KDIR !== undefined && existsSync(bin("1.32"));

const json = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

const POD = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", uid: "0b4f3d2c-1111-4222-8333-944455556666", resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: { containers: [{ name: "main", image: "busybox", ports: [{ containerPort: 80 }] }] },
  status: { phase: "Running", containerStatuses: [{ name: "main", ready: true, restartCount: 0, image: "busybox", imageID: "", started: true, state: { running: { startedAt: "2026-01-01T00:00:00Z" } } }] },
};

const RESOURCES = {
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: "v1",
  resources: [
    { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get", "list"], shortNames: ["po"] },
    { name: "pods/exec", singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"] },
    { name: "pods/attach", singularName: "", namespaced: true, kind: "PodAttachOptions", verbs: ["create", "get"] },
    { name: "pods/portforward", singularName: "", namespaced: true, kind: "PodPortForwardOptions", verbs: ["create", "get"] },
  ],
};

/** The fake command: echo ARGS | cat (stdin to stdout) | exit N | fail MSG | stderr TEXT. */
async function fakeCommand(s: RemoteCommandSession): Promise<void> {
  const [cmd, ...args] = s.options.command;
  switch (cmd) {
    case "echo":
      await s.stdout.write(args.join(" ") + "\n");
      return;
    case "cat":
      for await (const chunk of s.stdin) await s.stdout.write(chunk);
      return;
    case "exit":
      await s.finish(Number(args[0]));
      return;
    case "stderr":
      await s.stderr.write(args.join(" ") + "\n");
      return;
    case "fail":
      throw new Error(args.join(" "));
    case "tty": {
      // Reports the first terminal size the client sends.
      const it = s.resizes[Symbol.asyncIterator]();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([it.next(), new Promise<"none">((res) => (timer = setTimeout(() => res("none"), 5000)))]);
      clearTimeout(timer);
      const size = r === "none" || r.done === true ? "none" : `${r.value.width}x${r.value.height}`;
      await s.stdout.write(`tty=${String(s.options.tty)} size=${size}\r\n`);
      return;
    }
    default:
      await s.finish(127);
  }
}

let echoPort = 0;
const seen: string[] = [];

async function pipeToEcho(s: PortForwardStream): Promise<void> {
  const sock = net.connect(echoPort, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  s.signal.addEventListener("abort", () => sock.destroy(), { once: true });
  sock.on("error", () => undefined);
  const up = (async () => {
    for await (const chunk of s.data.readable) {
      if (!sock.write(chunk)) await new Promise((r) => sock.once("drain", r));
    }
    sock.end();
  })();
  const down = (async () => {
    for await (const chunk of sock as AsyncIterable<Buffer>) await s.data.write(chunk);
  })();
  await Promise.all([up, down]);
}

const handler: Handler = (req) => {
  seen.push(`${req.method} ${req.path}`);
  const p = req.path;
  if (p === "/version") return Promise.resolve(json(200, { major: "1", minor: "32", gitVersion: "v1.32.0", platform: "linux/amd64" }));
  if (p === "/api") return Promise.resolve(json(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:443" }] }));
  if (p === "/apis") return Promise.resolve(json(200, { kind: "APIGroupList", apiVersion: "v1", groups: [] }));
  if (p === "/api/v1") return Promise.resolve(json(200, RESOURCES));
  const m = /^\/api\/v1\/namespaces\/default\/pods\/(p|nows)(\/[a-z]+)?$/.exec(p);
  if (m !== null && m[2] === undefined) return Promise.resolve(json(200, { ...POD, metadata: { ...POD.metadata, name: m[1] } }));
  if (m !== null && m[1] === "nows" && req.headers["upgrade"]?.toLowerCase() === "websocket") {
    // A server without WebSocket streaming (log 34): kubectl must fall back to SPDY.
    return Promise.resolve({ status: 400, headers: { "content-type": "text/plain" }, body: "upgrade refused\n" });
  }
  if (m !== null && (m[2] === "/exec" || m[2] === "/attach")) {
    return Promise.resolve(handleExecUpgrade(req, fakeCommand));
  }
  if (m !== null && m[2] === "/portforward") {
    return Promise.resolve(handlePortForwardUpgrade(req, (s) => forEachPortForward(s, pipeToEcho)));
  }
  return Promise.resolve(json(404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `${p} not found`, reason: "NotFound", code: 404 }));
};

let dir = "";
let server: Server | undefined;
let echo: net.Server | undefined;
let kubeconfig = "";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(version: string, args: string[], opts: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const home = mkdtempSync(join(dir, "home-"));
  const child = spawn(bin(version), ["--kubeconfig", kubeconfig, "--cache-dir", join(home, "cache"), ...args], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
  else child.stdin.end();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    }, opts.timeoutMs ?? 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const addr = s.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts `kubectl port-forward`, sends `payload` through it, returns what came back. */
async function portForward(version: string, payload: string, env: Record<string, string> = {}, pod = "p"): Promise<{ echoed: string; log: string }> {
  const local = await freePort();
  const home = mkdtempSync(join(dir, "home-"));
  const child = spawn(bin(version), ["--kubeconfig", kubeconfig, "--cache-dir", join(home, "cache"), "port-forward", `pod/${pod}`, `${local}:80`, "--address", "127.0.0.1"], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (b: Buffer) => (log += b.toString()));
  child.stderr.on("data", (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    const deadline = Date.now() + 15_000;
    while (!log.includes(`Forwarding from 127.0.0.1:${local}`)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`port-forward did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const echoed = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(local, "127.0.0.1");
      let got = "";
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no echo (got ${JSON.stringify(got)}); kubectl: ${log}`));
      }, 10_000);
      sock.on("data", (b: Buffer) => {
        got += b.toString();
        if (got.length >= payload.length) {
          clearTimeout(timer);
          sock.end();
          resolve(got);
        }
      });
      sock.on("error", reject);
      sock.write(payload);
    });
    return { echoed, log };
  } finally {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGKILL");
  }
}

describe.skipIf(!haveKubectl)("real kubectl against the streaming handlers", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tug-streaming-"));
    const pki = await ensurePki(join(dir, "pki"), { hosts: [] });
    server = await nodeHttp2Transport.listen(handler, { host: "127.0.0.1", port: 0, tls: { cert: pki.serverCert, key: pki.serverKey } });
    echo = net.createServer((sock) => {
      sock.on("error", () => undefined);
      sock.pipe(sock);
    });
    await new Promise<void>((r) => echo?.listen(0, "127.0.0.1", r));
    const a = echo.address();
    echoPort = typeof a === "object" && a !== null ? a.port : 0;
    kubeconfig = join(dir, "kubeconfig");
    const b64 = (s: string): string => Buffer.from(s).toString("base64");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "t", cluster: { server: `https://127.0.0.1:${server.port}`, "certificate-authority-data": b64(pki.caCert) } }],
        users: [{ name: "t", user: { "client-certificate-data": b64(pki.adminCert), "client-key-data": b64(pki.adminKey) } }],
        contexts: [{ name: "t", context: { cluster: "t", user: "t", namespace: "default" } }],
        "current-context": "t",
      }),
    );
  });

  afterAll(async () => {
    await server?.close();
    await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("kubectl 1.32 exec over WebSocket v5 prints the output", async () => {
    const r = await run("1.32", ["exec", "p", "--", "echo", "hi"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hi\n");
    expect(r.code).toBe(0);
  });

  it("kubectl 1.32 exec -i pipes stdin through (v5 half-close)", async () => {
    const r = await run("1.32", ["exec", "-i", "p", "--", "cat"], { stdin: "abc\nline two\n" });
    expect(r.stdout).toBe("abc\nline two\n");
    expect(r.code).toBe(0);
  });

  it("kubectl 1.32 exec propagates a non-zero exit code", async () => {
    const r = await run("1.32", ["exec", "p", "--", "exit", "7"]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("command terminated with exit code 7");
  });

  it("kubectl 1.32 exec reports stderr and runtime errors", async () => {
    const r = await run("1.32", ["exec", "p", "--", "stderr", "oops"]);
    expect(r.stderr).toBe("oops\n");
    expect(r.code).toBe(0);
    const f = await run("1.32", ["exec", "p", "--", "fail", "no such file"]);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain("Internal error occurred: error executing command in container: no such file");
  });

  it("kubectl 1.32 attach over WebSocket", async () => {
    // attach has no command: the fake ends with 127 for an unknown command
    const r = await run("1.32", ["attach", "p", "-c", "main"]);
    expect(r.code).toBe(127);
  });

  it("kubectl 1.29 exec over SPDY (v5 negotiated, v4 semantics), stdin and exit codes", async () => {
    const r = await run("1.29", ["exec", "p", "--", "echo", "hi", "there"]);
    expect(r.stdout).toBe("hi there\n");
    expect(r.code).toBe(0);
    const i = await run("1.29", ["exec", "-i", "p", "--", "cat"], { stdin: "spdy stdin\n" });
    expect(i.stdout).toBe("spdy stdin\n");
    const e = await run("1.29", ["exec", "p", "--", "exit", "3"]);
    expect(e.code).toBe(3);
  });

  it("KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false kubectl 1.32 exec uses SPDY", async () => {
    const before = seen.length;
    const r = await run("1.32", ["exec", "-i", "p", "--", "cat"], { stdin: "forced spdy\n", env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" } });
    expect(r.stdout).toBe("forced spdy\n");
    expect(r.code).toBe(0);
    expect(seen.slice(before)).toContain("POST /api/v1/namespaces/default/pods/p/exec");
  });

  it("kubectl 1.32 port-forward (SPDY inside WebSocket) forwards bytes both ways", async () => {
    const before = seen.length;
    const { echoed } = await portForward("1.32", "hello through the tunnel");
    expect(echoed).toBe("hello through the tunnel");
    expect(seen.slice(before)).toContain("GET /api/v1/namespaces/default/pods/p/portforward");
  });

  it("kubectl 1.30 port-forward (plain SPDY) forwards bytes both ways", async () => {
    const before = seen.length;
    const { echoed } = await portForward("1.30", "hello over spdy");
    expect(echoed).toBe("hello over spdy");
    expect(seen.slice(before)).toContain("POST /api/v1/namespaces/default/pods/p/portforward");
  });
  it("a WebSocket refusal makes kubectl 1.32 fall back to SPDY (exec and port-forward)", async () => {
    const r = await run("1.32", ["exec", "-i", "nows", "--", "cat"], { stdin: "fallback\n" });
    expect(r.stdout).toBe("fallback\n");
    expect(r.code).toBe(0);
    const { echoed } = await portForward("1.32", "fallback bytes", {}, "nows");
    expect(echoed).toBe("fallback bytes");
  });

  it("KUBECTL_PORT_FORWARD_WEBSOCKETS=false kubectl 1.32 port-forward uses plain SPDY", async () => {
    const before = seen.length;
    const { echoed } = await portForward("1.32", "forced spdy pf", { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" });
    expect(echoed).toBe("forced spdy pf");
    expect(seen.slice(before)).toContain("POST /api/v1/namespaces/default/pods/p/portforward");
  });

  it("forwards a larger payload (several frames, beyond one 64 KiB window)", async () => {
    const big = "x".repeat(300_000);
    expect((await portForward("1.32", big)).echoed.length).toBe(big.length);
    expect((await portForward("1.30", big)).echoed.length).toBe(big.length);
  });

  for (const v of ["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"]) {
    it(`kubectl ${v}: exec output, exit code and port-forward`, async () => {
      if (!existsSync(bin(v))) return;
      const r = await run(v, ["exec", "p", "--", "echo", v]);
      expect(r.stdout).toBe(`${v}\n`);
      expect(r.code).toBe(0);
      expect((await run(v, ["exec", "p", "--", "exit", "42"])).code).toBe(42);
      expect((await portForward(v, `pf ${v}`)).echoed).toBe(`pf ${v}`);
    });
  }

  it.skipIf(!existsSync("/usr/bin/script"))("exec -it sends the terminal size (WebSocket and SPDY)", async () => {
    for (const [v, env] of [["1.32", ""], ["1.29", ""], ["1.32", "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false "]] as const) {
      const home = mkdtempSync(join(dir, "home-"));
      const cmd = `stty cols 100 rows 30; ${env}${bin(v)} --kubeconfig ${kubeconfig} --cache-dir ${join(home, "c")} exec -it p -- tty`;
      const child = spawn("script", ["-qec", cmd, "/dev/null"], { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home }, stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString()));
      child.stderr.on("data", (b: Buffer) => (out += b.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), 15_000);
        child.once("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(out, `${env}kubectl ${v}`).toContain("tty=true size=100x30");
      expect(code).toBe(0);
    }
  });
});
