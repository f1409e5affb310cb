import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../runtime/clock.ts";
import type { RuntimeService, StreamIO, StreamSession } from "../runtime/types.ts";
import type { ContainerSpec, PodObject } from "../types.ts";
import { activeDeadlineAt, runHook, runPreStop, type HookContext } from "./hooks.ts";
import { podNetworkProbe, resolvePort, tcpCheck } from "./netprobe.ts";

/** A runtime whose exec runs a tiny script language: `exit N`, `echo X`, `sleep MS`. */
function fakeRuntime(log: string[]): RuntimeService {
  const rt: Pick<RuntimeService, "exec"> = {
    async exec(_id: string, cmd: readonly string[], io: StreamIO): Promise<StreamSession> {
      log.push(cmd.join(" "));
      const exit = (async () => {
        let code = 0;
        for (const part of cmd.join(" ").split(";").map((s) => s.trim())) {
          const [op, arg] = part.split(" ");
          if (op === "exit") code = Number(arg);
          if (op === "echo") await io.stdout?.write(new TextEncoder().encode(`${arg}\n`));
          if (op === "sleep") await new Promise((r) => setTimeout(r, Number(arg)));
        }
        return { exitCode: code };
      })();
      return { exit, resize: () => undefined, close: () => undefined };
    },
  };
  return rt as RuntimeService; // only exec is used by hooks
}

const pod = { metadata: { name: "p", namespace: "ns", uid: "u" } } as PodObject;
let server: Server;
let port = 0;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.url} ${req.headers["x-test"] ?? ""} ${req.headers["user-agent"] ?? ""}`);
    res.statusCode = req.url === "/fail" ? 503 : 200;
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

function ctx(container: ContainerSpec, log: string[] = [], extra: Partial<HookContext> = {}): HookContext {
  return { runtime: fakeRuntime(log), clock: systemClock, pod, container, containerId: "cid", podIP: "127.0.0.1", timeoutMs: 2000, network: true, ...extra };
}

describe("runHook", () => {
  it("exec: exit 0 succeeds; non-zero fails with upstream's message", async () => {
    const c = { name: "c" };
    expect(await runHook({ exec: { command: ["echo hi"] } }, ctx(c))).toEqual({ ok: true });
    const r = await runHook({ exec: { command: ["echo", "oops;", "exit", "3"] } }, ctx(c));
    expect(r).toEqual({ ok: false, message: 'Exec lifecycle hook ([echo oops; exit 3]) for Container "c" in Pod "p_ns(u)" failed - error: command \'echo oops; exit 3\' exited with 3: , message: "oops\\n"' });
    const empty = await runHook({ exec: { command: [] } }, ctx(c));
    expect(empty.ok).toBe(false);
  });

  it("exec past the timeout fails", async () => {
    const r = await runHook({ exec: { command: ["sleep 500"] } }, ctx({ name: "c" }, [], { timeoutMs: 50 }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("timed out");
  });

  it("httpGet: any status is delivered; connection errors fail", async () => {
    expect(await runHook({ httpGet: { path: "/fail", port, httpHeaders: [{ name: "X-Test", value: "1" }] } }, ctx({ name: "c" }))).toEqual({ ok: true });
    expect(hits.some((h) => h.startsWith("/fail 1 kube-probe/"))).toBe(true);
    const r = await runHook({ httpGet: { path: "/x", port: 1 } }, ctx({ name: "c" }));
    expect(r).toEqual({ ok: false, message: 'HTTP lifecycle hook (/x) for Container "c" in Pod "p_ns(u)" failed - error: Get "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused' });
    // Without a pod network (hollow) httpGet hooks count as delivered.
    expect(await runHook({ httpGet: { path: "/x", port: 1 } }, ctx({ name: "c" }, [], { network: false }))).toEqual({ ok: true });
  });

  it("an empty handler is invalid", async () => {
    const r = await runHook({}, ctx({ name: "c" }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^Cannot run handler: invalid handler/);
  });
});

describe("runPreStop", () => {
  it("no hook: the grace period is unchanged", async () => {
    expect(await runPreStop(ctx({ name: "c" }), 30)).toEqual({ graceSeconds: 30 });
  });
  it("runs the hook, keeps at least 2 s, reports failures", async () => {
    const log: string[] = [];
    expect(await runPreStop(ctx({ name: "c", lifecycle: { preStop: { exec: { command: ["echo bye"] } } } }, log), 1)).toEqual({ graceSeconds: 2 });
    expect(log).toEqual(["echo bye"]);
    const r = await runPreStop(ctx({ name: "c", lifecycle: { preStop: { exec: { command: ["exit 1"] } } } }), 30);
    expect(r.graceSeconds).toBe(30);
    expect(r.failure).toMatch(/^Exec lifecycle hook \(\[exit 1\]\)/);
  });
  it("a hook running past the grace period is abandoned", async () => {
    const t0 = Date.now();
    const r = await runPreStop(ctx({ name: "c", lifecycle: { preStop: { exec: { command: ["sleep 3000"] } } } }), 1);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(r.graceSeconds).toBe(2);
  });
  it("grace 0 skips the hook", async () => {
    const log: string[] = [];
    expect(await runPreStop(ctx({ name: "c", lifecycle: { preStop: { exec: { command: ["echo"] } } } }, log), 0)).toEqual({ graceSeconds: 0 });
    expect(log).toEqual([]);
  });
});

describe("network probes", () => {
  it("httpGet: 2xx/3xx succeed, others fail with the status; named ports", async () => {
    const c: ContainerSpec = { name: "c", ports: [{ name: "http", containerPort: port }] };
    expect(await podNetworkProbe({ httpGet: { path: "/ok", port: "http" } }, "127.0.0.1", c)).toBe(true);
    await expect(podNetworkProbe({ httpGet: { path: "/fail", port } }, "127.0.0.1", c)).rejects.toThrow("HTTP probe failed with statuscode: 503");
    await expect(podNetworkProbe({ httpGet: { path: "/", port: 1 } }, "127.0.0.1", c)).rejects.toThrow('Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused');
    await expect(podNetworkProbe({ httpGet: { path: "/", port: 80 } }, undefined, c)).rejects.toThrow("no pod IP");
    expect(() => resolvePort("nope", c)).toThrow("couldn't find port: nope in c");
    expect(resolvePort("8080", c)).toBe(8080);
  });
  it("tcpSocket", async () => {
    expect(await podNetworkProbe({ tcpSocket: { port } }, "127.0.0.1")).toBe(true);
    await expect(tcpCheck({ port: 1 }, "127.0.0.1", undefined, 1000)).rejects.toThrow("dial tcp 127.0.0.1:1: connect: connection refused");
  });
});

describe("activeDeadlineAt", () => {
  it("start + deadline", () => {
    expect(activeDeadlineAt({ spec: { activeDeadlineSeconds: 5 } } as PodObject, 1000)).toBe(6000);
    expect(activeDeadlineAt({ spec: {} } as PodObject, 1000)).toBeUndefined();
    expect(activeDeadlineAt({ spec: { activeDeadlineSeconds: 5 } } as PodObject, undefined)).toBeUndefined();
  });
});
