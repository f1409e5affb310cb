/**
 * The stats Summary: /proc parsers, rates, the document shape, the provider over a hollow runtime
 * on a fake clock (exact simulated figures), and `/stats/summary` through the streaming handler.
 */
import { describe, expect, it } from "vitest";
import type { HttpRequest, HttpResponse, PeerCertificate } from "../../transport/types.ts";
import { FakeClock } from "../runtime/clock.ts";
import { TimerQueue } from "../runtime/timers.ts";
import { HollowHost, HollowRuntime } from "../runtimes/hollow/mod.ts";
import { hollowCpuMillis, hollowWorkingSet } from "../runtimes/hollow/stats.ts";
import type { KubeletStreaming } from "../streaming.ts";
import { createStreamingHandler } from "../streaming/handler.ts";
import { parseKubeletPath } from "../streaming/paths.ts";
import { nodeMemory, parseMeminfo, parseProcStatCpu, readNodeSample } from "./host.ts";
import { StatsProvider } from "./provider.ts";
import { buildSummary, nanoCores, type Summary } from "./summary.ts";

describe("node figures from /proc", () => {
  it("parses /proc/stat busy time (not idle/iowait) and meminfo", () => {
    expect(parseProcStatCpu("cpu  100 5 50 1000 40 3 2 1 0 0\ncpu0 1 2 3 4\n")).toBe(161);
    expect(parseProcStatCpu("intr 1 2\n")).toBeUndefined();
    expect(parseProcStatCpu("cpu  a b c d\n")).toBeUndefined();
    const mi = parseMeminfo("MemTotal:       8000 kB\nMemFree:        2000 kB\nMemAvailable:   5000 kB\nInactive(file):  1000 kB\nAnonPages:       1500 kB\nHugePages_Total:       0\n");
    expect(mi.get("MemTotal")).toBe(8000 * 1024);
    expect(mi.get("HugePages_Total")).toBe(0);
    expect(nodeMemory(mi)).toEqual({ availableBytes: 5000 * 1024, usageBytes: 6000 * 1024, workingSetBytes: 5000 * 1024, rssBytes: 1500 * 1024 });
  });

  it("reads this host", () => {
    const s = readNodeSample();
    if (s === undefined) return; // no /proc here
    expect(s.cpuCoreNanoSeconds).toBeGreaterThan(0);
    expect(s.memory.usageBytes).toBeGreaterThan(0);
  });
});

describe("rates and the Summary document", () => {
  it("nanoCores from two cumulative samples", () => {
    expect(nanoCores({ usage: 0, timestamp: 1000 }, { usage: 500_000_000, timestamp: 2000 })).toBe(500_000_000);
    expect(nanoCores(undefined, { usage: 1, timestamp: 1 })).toBeUndefined();
    expect(nanoCores({ usage: 5, timestamp: 1000 }, { usage: 1, timestamp: 2000 })).toBeUndefined(); // counter reset
    expect(nanoCores({ usage: 1, timestamp: 1000 }, { usage: 2, timestamp: 1000 })).toBeUndefined(); // empty window
  });

  it("builds node, pods (podRef, containers, sums) in the stats/v1alpha1 shape", () => {
    const c = (id: string, name: string, sb: string, usage: number, ts: number, ws: number) => ({
      id, podSandboxId: sb, metadata: { name, attempt: 0 }, labels: {},
      cpu: { timestamp: ts, usageCoreNanoSeconds: usage }, memory: { timestamp: ts, workingSetBytes: ws, rssBytes: ws, usageBytes: ws },
    });
    const s = buildSummary({
      nodeName: "n1", nodeStartMs: 0,
      node: {
        prev: { timestamp: 0, cpuCoreNanoSeconds: 0, memory: { availableBytes: 1, usageBytes: 2, workingSetBytes: 3, rssBytes: 4 } },
        cur: { timestamp: 1000, cpuCoreNanoSeconds: 2e9, memory: { availableBytes: 1, usageBytes: 2, workingSetBytes: 3, rssBytes: 4 } },
      },
      sandboxes: [
        { id: "s2", metadata: { name: "b", namespace: "default", uid: "u2", attempt: 0 }, createdAt: 0 },
        { id: "s1", metadata: { name: "a", namespace: "default", uid: "u1", attempt: 0 }, createdAt: 0 },
      ],
      containers: [
        { cur: c("c2", "side", "s1", 3e8, 1000, 10), prev: c("c2", "side", "s1", 2e8, 0, 10), startedAt: 0 },
        { cur: c("c1", "main", "s1", 1e9, 1000, 20), prev: c("c1", "main", "s1", 0, 0, 20) },
        { cur: c("c9", "orphan", "gone", 1, 1000, 1) },
      ],
    });
    expect(s.node).toEqual({
      nodeName: "n1", startTime: "1970-01-01T00:00:00Z",
      cpu: { time: "1970-01-01T00:00:01Z", usageNanoCores: 2e9, usageCoreNanoSeconds: 2e9 },
      memory: { time: "1970-01-01T00:00:01Z", availableBytes: 1, usageBytes: 2, workingSetBytes: 3, rssBytes: 4 },
    });
    expect(s.pods.map((p) => p.podRef)).toEqual([{ name: "a", namespace: "default", uid: "u1" }, { name: "b", namespace: "default", uid: "u2" }]);
    const a = s.pods[0]!;
    expect(a.containers.map((x) => [x.name, x.cpu.usageNanoCores, x.memory.workingSetBytes])).toEqual([["main", 1e9, 20], ["side", 1e8, 10]]);
    expect(a.cpu).toMatchObject({ usageNanoCores: 1.1e9, usageCoreNanoSeconds: 1.3e9 });
    expect(a.memory.workingSetBytes).toBe(30);
    expect(s.pods[1]!.containers).toEqual([]);
    expect(s.pods[1]!.cpu.usageNanoCores).toBeUndefined();
  });
});

describe("StatsProvider over the hollow runtime", () => {
  it("samples twice on the first call, then uses the previous sample; figures match the simulation", async () => {
    const clock = new FakeClock();
    const rt = new HollowRuntime(new HollowHost({ timers: new TimerQueue(clock) }));
    const sb = await rt.runPodSandbox({ metadata: { name: "web", namespace: "ns", uid: "u1", attempt: 0 }, labels: {}, annotations: {} });
    const sbc = { metadata: { name: "web", namespace: "ns", uid: "u1", attempt: 0 }, labels: {}, annotations: {} };
    await rt.pullImage({ image: "hollow/sleep" });
    const id = await rt.createContainer(sb, { metadata: { name: "app", attempt: 0 }, image: { image: "hollow/sleep" }, labels: {}, annotations: {} }, sbc);
    await rt.startContainer(id);
    let sleeps = 0;
    const p = new StatsProvider({
      nodeName: "n1", runtime: rt, readNode: () => undefined, nodeStartMs: 0,
      sleep: async (ms) => {
        sleeps++;
        clock.advance(ms);
      },
    });
    const s1: Summary = await p.summary();
    expect(sleeps).toBe(1);
    expect(s1.node).toEqual({ nodeName: "n1", startTime: "1970-01-01T00:00:00Z" });
    expect(s1.pods).toHaveLength(1);
    const c1 = s1.pods[0]!.containers[0]!;
    expect(s1.pods[0]!.podRef).toEqual({ name: "web", namespace: "ns", uid: "u1" });
    expect(c1.name).toBe("app");
    expect(c1.cpu.usageNanoCores).toBe(hollowCpuMillis(id) * 1e6);
    expect(c1.memory.workingSetBytes).toBe(hollowWorkingSet(id));
    clock.advance(1000);
    const s2 = await p.summary();
    expect(sleeps).toBe(1); // the previous sample was recent: no second sample
    const c2 = s2.pods[0]!.containers[0]!;
    expect(c2.cpu.usageCoreNanoSeconds).toBeGreaterThan(c1.cpu.usageCoreNanoSeconds);
    expect(c2.cpu.usageNanoCores).toBe(hollowCpuMillis(id) * 1e6);
    // Concurrent calls share one sampling.
    const [x, y] = await Promise.all([p.summary(), p.summary()]);
    expect(x).toBe(y);
    await rt.close();
  });
});

describe("/stats/summary on the streaming endpoint", () => {
  const APISERVER: PeerCertificate = { commonName: "kube-apiserver-kubelet-client", organizations: ["system:masters"] };
  const req = (target: string, method = "GET"): HttpRequest => {
    const u = new URL(target, "https://127.0.0.1");
    return {
      method, path: u.pathname, rawQuery: u.search.slice(1), query: u.searchParams, headers: {}, httpVersion: "1.1", remoteAddress: "127.0.0.1",
      peerCertificate: APISERVER, signal: new AbortController().signal, body: () => Promise.resolve(new Uint8Array(0)),
    };
  };
  const node = (name: string) =>
    // Structural stand-in: the handler only reads `stats` for this route.
    ({ lookupPod: () => undefined, stats: { nodeName: name, summary: async () => ({ node: { nodeName: name }, pods: [] }) } }) as unknown as KubeletStreaming;
  const body = (r: HttpResponse): unknown => JSON.parse(typeof r.body === "string" ? r.body : new TextDecoder().decode(r.body as Uint8Array));

  it("routes GET /stats/summary; other methods and paths are refused", () => {
    expect(parseKubeletPath("GET", "/stats/summary")).toEqual({ kind: "statsSummary" });
    expect(parseKubeletPath("GET", "/stats/summary/")).toEqual({ kind: "statsSummary" });
    expect(parseKubeletPath("GET", "/stats")).toMatchObject({ error: { status: 404 } });
    expect(parseKubeletPath("GET", "/stats/other")).toMatchObject({ error: { status: 404 } });
    expect(parseKubeletPath("POST", "/stats/summary")).toMatchObject({ error: { status: 405 } });
  });

  it("serves the only node, or the one named by ?node=; 400 when ambiguous, 404 when unknown or none", async () => {
    const one = createStreamingHandler({ find: () => undefined, all: () => [node("n1")] });
    const r = await one(req("/stats/summary"));
    expect(r.status).toBe(200);
    expect(r.headers?.["content-type"]).toBe("application/json");
    expect(body(r)).toEqual({ node: { nodeName: "n1" }, pods: [] });
    const two = createStreamingHandler({ find: () => undefined, all: () => [node("n1"), node("n2")] });
    expect(body(await two(req("/stats/summary?node=n2")))).toEqual({ node: { nodeName: "n2" }, pods: [] });
    const amb = await two(req("/stats/summary"));
    expect(amb.status).toBe(400);
    expect((body(amb) as { message: string }).message).toBe("this endpoint serves 2 nodes (n1, n2): choose one with ?node=NAME");
    const unknown = await two(req("/stats/summary?node=zz"));
    expect(unknown.status).toBe(404);
    expect((body(unknown) as { message: string }).message).toBe('node "zz" is not served by this endpoint');
    const none = await createStreamingHandler({ find: () => undefined })(req("/stats/summary"));
    expect(none.status).toBe(404);
  });
});
