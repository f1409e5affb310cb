/**
 * Acceptance (issue 3, and issue 4's "create a Deployment -> pods Running" path): real kubectl 1.32
 * against `tug server` (apiserver + controller-manager + scheduler) and `tug hollow --nodes 5`.
 *
 * Node readiness: TaintNodesByCondition admission taints every new Node
 * `node.kubernetes.io/not-ready:NoSchedule`; the node lifecycle controller removes it once the node
 * is Ready. The test waits for that; if the taint is still there after 30 s (a build without the
 * node lifecycle controller) it removes the taint with kubectl and says so on stderr.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, REPO, runTug, startTug, tableRows, tempDir, type TugProcess } from "./harness.ts";

let tug: TugProcess;
let hollow: ChildProcess;
let hollowOut = "";
let k: Kubectl;
const NODES = ["hollow-0", "hollow-1", "hollow-2", "hollow-3", "hollow-4"];

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}\nhollow: ${hollowOut.slice(-2000)}\ntug: ${tug?.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stopChild(c: ChildProcess | undefined): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => c.once("exit", () => r()));
  c.kill("SIGTERM");
  const t = setTimeout(() => { if (c.exitCode === null) c.kill("SIGKILL"); }, 5000);
  return exited.finally(() => clearTimeout(t));
}

interface PodView { name: string; node: string; phase: string }
async function podsOf(selector: string): Promise<PodView[]> {
  const doc = JSON.parse(await k.ok(["get", "pods", "-l", selector, "-o", "json"])) as { items: { metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string } }[] };
  return doc.items.map((p) => ({ name: p.metadata.name, node: p.spec.nodeName ?? "", phase: p.status.phase ?? "" }));
}

async function taintedNodes(): Promise<string[]> {
  const out = await k.ok(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.taints[*].key}{\"\\n\"}{end}"]);
  return out.split("\n").filter((l) => l.includes("node.kubernetes.io/not-ready")).map((l) => l.split("=")[0] ?? "");
}

beforeAll(async () => {
  tug = await startTug();
  k = new Kubectl("1.32", tug.kubeconfig);
  hollow = spawn(process.execPath, [join(REPO, "bin/tug.js"), "hollow", "--kubeconfig", tug.kubeconfig, "--nodes", "5"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  hollow.stdout?.on("data", (d: Buffer) => { hollowOut += d.toString("utf8"); });
  hollow.stderr?.on("data", (d: Buffer) => { hollowOut += d.toString("utf8"); });
  await until("5 Ready nodes", async () => {
    const rows = tableRows(await k.ok(["get", "nodes"])).slice(1);
    return rows.length === 5 && rows.every((r) => r[1] === "Ready");
  }, 60_000);
  try {
    await until("the node lifecycle controller to remove the not-ready taint", async () => (await taintedNodes()).length === 0, 30_000);
  } catch {
    process.stderr.write("scheduler e2e: not-ready taints still present after 30 s (no node lifecycle controller?); removing them with kubectl\n");
    for (const n of await taintedNodes()) await k.run(["taint", "nodes", n, "node.kubernetes.io/not-ready:NoSchedule-"]);
  }
}, 120_000);

afterAll(async () => {
  await stopChild(hollow);
  await tug?.stop();
  k?.cleanup();
});

describe("scheduler + controllers + hollow kubelets, kubectl 1.32", () => {
  it("kubectl create deployment: 10 pods bound, spread over the nodes, Running; rollout status finishes", async () => {
    await k.ok(["create", "deployment", "web", "--image=hollow/sleep", "--replicas=10"]);
    await k.ok(["rollout", "status", "deployment/web", "--timeout=90s"], { timeoutMs: 100_000 });
    const pods = await podsOf("app=web");
    expect(pods).toHaveLength(10);
    const perNode = new Map<string, number>();
    for (const p of pods) {
      expect(NODES).toContain(p.node);
      expect(p.phase).toBe("Running");
      perNode.set(p.node, (perNode.get(p.node) ?? 0) + 1);
    }
    // Spreading (LeastAllocated, BalancedAllocation, default topology spread): no node gets most of them.
    expect(perNode.size).toBeGreaterThanOrEqual(4);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(3);
    // Scheduled events, as kubectl get events and describe show them.
    const first = pods[0]!;
    // The recorder writes events asynchronously: the last one may land just after the rollout finished.
    const webLines = (out: string): string[] => out.trim().split("\n").filter((l) => l.includes("default/web-"));
    const events = await until("10 Scheduled events", async () => {
      const out = await k.ok(["get", "events", "--field-selector", "reason=Scheduled", "-o", "custom-columns=MSG:.message,SRC:.source.component", "--no-headers"]);
      return webLines(out).length >= 10 ? out : undefined;
    }, 15_000);
    expect(events).toContain(`Successfully assigned default/${first.name} to ${first.node}`);
    expect(webLines(events)).toHaveLength(10);
    expect(events).toContain("default-scheduler");
    const describe = await k.ok(["describe", "pod", first.name]);
    expect(describe).toMatch(new RegExp(`Normal\\s+Scheduled\\s+.*default-scheduler\\s+Successfully assigned default/${first.name} to ${first.node}`));
  }, 120_000);

  it("a pod asking for more cpu than any node has stays Pending with upstream's FailedScheduling message", async () => {
    await k.ok(["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "huge", namespace: "default" }, spec: { containers: [{ name: "main", image: "hollow/sleep", resources: { requests: { cpu: "100" } } }] } }),
    });
    const msg = "0/5 nodes are available: 5 Insufficient cpu. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.";
    const out = await until("FailedScheduling", async () => {
      const d = await k.ok(["describe", "pod", "huge"]);
      return d.includes("FailedScheduling") ? d : undefined;
    }, 20_000);
    expect(out).toMatch(/Status:\s+Pending/);
    expect(out).toContain(msg);
    expect(out).toMatch(/Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/5 nodes are available/);
    const cond = JSON.parse(await k.ok(["get", "pod", "huge", "-o", "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")]}"])) as Record<string, string>;
    expect(cond).toMatchObject({ type: "PodScheduled", status: "False", reason: "Unschedulable", message: msg });
    expect((await k.ok(["get", "pod", "huge", "-o", "jsonpath={.spec.nodeName}"])).trim()).toBe("");
    await k.ok(["delete", "pod", "huge", "--wait=false"]);
  }, 60_000);

  it("honours nodeSelector, taints/tolerations and required node affinity", async () => {
    await k.ok(["taint", "nodes", "hollow-4", "dedicated=infra:NoSchedule"]);
    const pod = (name: string, spec: Record<string, unknown>): string =>
      JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: { test: "placement" } }, spec: { containers: [{ name: "main", image: "hollow/sleep" }], ...spec } });
    const onHost = (h: string) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [h] }] }] } } } });
    await k.ok(["apply", "-f", "-"], { input: pod("sel", { nodeSelector: { "kubernetes.io/hostname": "hollow-3" } }) });
    await k.ok(["apply", "-f", "-"], { input: pod("tolerates", { ...onHost("hollow-4"), tolerations: [{ key: "dedicated", operator: "Equal", value: "infra", effect: "NoSchedule" }] }) });
    await k.ok(["apply", "-f", "-"], { input: pod("untolerated", onHost("hollow-4")) });
    await until("placements", async () => {
      const ps = await podsOf("test=placement");
      return ps.filter((p) => p.node !== "").length === 2 ? ps : undefined;
    }, 20_000);
    const byName = new Map((await podsOf("test=placement")).map((p) => [p.name, p.node]));
    expect(byName.get("sel")).toBe("hollow-3");
    expect(byName.get("tolerates")).toBe("hollow-4");
    expect(byName.get("untolerated")).toBe("");
    const d = await until("FailedScheduling of untolerated", async () => {
      const t = await k.ok(["describe", "pod", "untolerated"]);
      return t.includes("FailedScheduling") ? t : undefined;
    }, 20_000);
    expect(d).toContain("0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 4 node(s) didn't match Pod's node affinity/selector.");
    await k.ok(["delete", "pods", "-l", "test=placement", "--wait=false"]);
    await k.ok(["taint", "nodes", "hollow-4", "dedicated-"]);
  }, 60_000);

  it("the scheduler holds the kube-system/kube-scheduler lease", async () => {
    const holder = await k.ok(["get", "lease", "kube-scheduler", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}"]);
    expect(holder).not.toBe("");
  });
});

describe("--disable scheduler and tug scheduler alone", () => {
  let plain: TugProcess;
  let kp: Kubectl;
  let sched: ChildProcess | undefined;
  let schedOut = "";
  beforeAll(async () => {
    plain = await startTug({ args: ["--disable", "scheduler", "--disable", "controller-manager"] });
    kp = new Kubectl("1.32", plain.kubeconfig);
  }, 60_000);
  afterAll(async () => {
    await stopChild(sched);
    await plain?.stop();
    kp?.cleanup();
  });

  it("leaves pods unscheduled (no binding, no events, no lease)", async () => {
    await kp.ok(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "main", image: "hollow/sleep" }] } }) });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await kp.ok(["get", "pod", "p", "-o", "jsonpath={.spec.nodeName}|{.status.conditions}"])).trim()).toBe("|");
    expect((await kp.ok(["get", "events", "-o", "name"])).trim()).toBe("");
    expect(await kp.fails(["get", "lease", "kube-scheduler", "-n", "kube-system"])).toContain("not found");
  }, 30_000);

  it("tug scheduler --kubeconfig schedules against it (FailedScheduling: no nodes), and takes the lease", async () => {
    sched = spawn(process.execPath, [join(REPO, "bin/tug.js"), "scheduler", "--kubeconfig", plain.kubeconfig, "--kernel", "wasm-simd"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    sched.stdout?.on("data", (d: Buffer) => { schedOut += d.toString("utf8"); });
    sched.stderr?.on("data", (d: Buffer) => { schedOut += d.toString("utf8"); });
    const ev = await until("FailedScheduling from tug scheduler", async () => {
      const out = await kp.ok(["get", "events", "--field-selector", "involvedObject.name=p,reason=FailedScheduling", "-o", "jsonpath={.items[*].message}"]);
      return out.trim() !== "" ? out : undefined;
    }, 30_000).catch((e: unknown) => { throw new Error(`${String(e)}\ntug scheduler: ${schedOut}`); });
    expect(ev).toContain("no nodes available to schedule pods");
    expect(schedOut).toContain("tug scheduler: profiles default-scheduler against");
    expect(schedOut).toContain("kernel wasm-simd");
    const holder = await kp.ok(["get", "lease", "kube-scheduler", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}"]);
    expect(holder).not.toBe("");
  }, 60_000);

  it("an invalid config is one clear start-up error naming the field", async () => {
    const dir = tempDir("schedcfg");
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: a\n  plugins:\n    score:\n      enabled:\n      - name: NodeAffinity\n        weight: -1\n");
    const r = await runTug(["scheduler", "--kubeconfig", plain.kubeconfig, "--config", bad]);
    expect(r.exit.code).toBe(1);
    expect(r.stderr.trim()).toBe(`tug: scheduler config ${bad}: profiles[0].plugins.score.enabled[0].weight: Invalid value: -1: weight must be a non-negative integer`);
    const r2 = await runTug(["scheduler", "--kubeconfig", plain.kubeconfig, "--kernel", "gpu"]);
    expect(r2.exit.code).toBe(1);
    expect(r2.stderr.trim()).toBe('tug: unknown --kernel "gpu" (one of: auto, wasm-simd, wasm-scalar, ts)');
  }, 30_000);
});
