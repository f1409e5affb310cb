/**
 * Acceptance (issue 4, "stop a hollow node's Lease -> node NotReady after the grace period, pods
 * evicted after their toleration and recreated on other nodes"): real kubectl 1.32 against
 * `tug server` (apiserver + controller-manager + scheduler) and two `tug hollow` processes with
 * three nodes each (`keep-0..2`, `lost-0..2`).
 *
 * A Deployment of 6 pods tolerating not-ready/unreachable NoExecute for 2 s (explicit tolerations:
 * the DefaultTolerationSeconds admission adds its 300 s ones only when absent) spreads over both
 * processes; then the `lost-` process is SIGKILLed. Expected, in order: its nodes' Ready condition
 * goes Unknown (`NodeStatusUnknown`) once the monitor grace period passed since the last Lease
 * renewal, the nodes get the `node.kubernetes.io/unreachable` NoSchedule + NoExecute taints, their
 * pods are marked `DisruptionTarget` and deleted by the taint manager at least 2 s after the taint,
 * the ReplicaSet creates replacements which the scheduler puts on the surviving nodes, and
 * `kubectl rollout status` completes again with all 6 Running on `keep-` nodes.
 *
 * Knobs (controller-manager environment, docs/controllers.md): `TUG_NODE_MONITOR_GRACE_PERIOD=15s`
 * (hollow agents renew their Lease every 10 s, so a live node never crosses it) and
 * `TUG_NODE_EVICTION_RATE=1` (the default 0.1 nodes/s would spread the three NoExecute taints over
 * 20 s; the rate limiter is covered by the node lifecycle unit tests). Every wait is bounded;
 * processes are stopped by PID. Takes ~25–30 s on the shared 2-core box.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, REPO, startTug, type BackgroundKubectl, type TugProcess } from "./harness.ts";

const GRACE_S = 15;
const TOLERATION_S = 2;
const REPLICAS = 6;
const KEEP = ["keep-0", "keep-1", "keep-2"];
const LOST = ["lost-0", "lost-1", "lost-2"];
const NS = "failover";

let tug: TugProcess;
let k: Kubectl;
const hollows = new Map<string, { child: ChildProcess; out: () => string }>();

interface Condition { type: string; status: string; reason?: string; lastTransitionTime?: string }
interface Taint { key: string; effect: string; timeAdded?: string }
interface Obj {
  metadata: { name: string; uid: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; labels?: Record<string, string> };
  spec?: { nodeName?: string; taints?: Taint[]; tolerations?: unknown[]; renewTime?: string; [k: string]: unknown };
  status?: { phase?: string; conditions?: Condition[]; [k: string]: unknown };
}

const conds = (o: Obj): Condition[] => o.status?.conditions ?? [];
const cond = (o: Obj, type: string): Condition | undefined => conds(o).find((c) => c.type === type);
const secs = (t: string | undefined): number => (t === undefined ? NaN : Date.parse(t) / 1000);

function diagnostics(): string {
  const parts = [...hollows].map(([p, h]) => `hollow ${p}: ${h.out().slice(-1500)}`);
  return `${parts.join("\n")}\ntug stderr: ${tug?.stderr().slice(-3000) ?? ""}`;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function items(args: string[]): Promise<Obj[]> {
  return (JSON.parse(await k.ok([...args, "-o", "json"])) as { items: Obj[] }).items;
}

/** Starts `tug hollow --nodes N --name-prefix P` and resolves once it printed "registered". */
function startHollow(prefix: string, nodes: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(REPO, "bin/tug.js"), "hollow", "--kubeconfig", tug.kubeconfig, "--nodes", String(nodes), "--name-prefix", prefix], {
    cwd: REPO, stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  hollows.set(prefix, { child, out: () => out });
  return new Promise((res, rej) => {
    const done = (): void => { clearTimeout(timer); clearInterval(poll); };
    const timer = setTimeout(() => { done(); rej(new Error(`tug hollow ${prefix} did not register in 40 s\n${out}`)); }, 40_000);
    const poll = setInterval(() => { if (/registered/.test(out)) { done(); res(child); } }, 50);
    child.once("exit", (code, sig) => { done(); rej(new Error(`tug hollow ${prefix} exited ${String(code ?? sig)}\n${out}`)); });
  });
}

/** SIGTERM by PID, SIGKILL after 5 s; resolves on exit. */
async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  const exited = new Promise<void>((r) => c.once("exit", () => r()));
  process.kill(c.pid, "SIGTERM");
  const t = setTimeout(() => { if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, "SIGKILL"); }, 5_000);
  await exited;
  clearTimeout(t);
}

const deployment = {
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: NS },
  spec: {
    replicas: REPLICAS,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [{ name: "main", image: "hollow/sleep" }],
        tolerations: [
          { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: TOLERATION_S },
          { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: TOLERATION_S },
        ],
      },
    },
  },
};

const livePods = async (): Promise<Obj[]> => (await items(["-n", NS, "get", "pods", "-l", "app=web"])).filter((p) => p.metadata.deletionTimestamp === undefined);
const isRunningReady = (p: Obj): boolean => p.status?.phase === "Running" && cond(p, "Ready")?.status === "True";

beforeAll(async () => {
  tug = await startTug({ env: { TUG_NODE_MONITOR_GRACE_PERIOD: `${GRACE_S}s`, TUG_NODE_EVICTION_RATE: "1" } });
  k = new Kubectl("1.32", tug.kubeconfig);
  await k.ok(["create", "namespace", NS]);
  await Promise.all([startHollow("keep-", 3), startHollow("lost-", 3)]);
  // Ready, and the admission's not-ready:NoSchedule taint removed by the node lifecycle controller.
  await until("6 Ready, untainted nodes", async () => {
    const nodes = await items(["get", "nodes"]);
    return nodes.length === 6 && nodes.every((n) => cond(n, "Ready")?.status === "True" && (n.spec?.taints ?? []).length === 0);
  }, 60_000);
}, 120_000);

afterAll(async () => {
  await Promise.all([...hollows.values()].map((h) => stopChild(h.child)));
  await tug?.stop();
  k?.cleanup();
});

describe("node failover with kubectl 1.32: a hollow process dies, its pods move", () => {
  let before: Obj[] = [];
  let killedAt = 0;
  let watch: BackgroundKubectl | undefined;

  it("a Deployment of 6 pods with 2 s NoExecute tolerations rolls out over both hollow processes", async () => {
    await k.ok(["apply", "-f", "-"], { input: JSON.stringify(deployment) });
    await k.ok(["-n", NS, "rollout", "status", "deployment/web", "--timeout=90s"], { timeoutMs: 100_000 });
    before = await livePods();
    expect(before).toHaveLength(REPLICAS);
    expect(before.every(isRunningReady)).toBe(true);
    const nodes = before.map((p) => p.spec?.nodeName ?? "");
    expect(nodes.every((n) => KEEP.includes(n) || LOST.includes(n))).toBe(true);
    expect(nodes.filter((n) => LOST.includes(n)).length).toBeGreaterThan(0);
    expect(nodes.filter((n) => KEEP.includes(n)).length).toBeGreaterThan(0);
    // Explicit tolerations are kept as written: no 300 s defaults added beside them.
    for (const p of before) {
      const tol = (p.spec?.tolerations ?? []) as Array<{ key?: string; effect?: string; tolerationSeconds?: number }>;
      const noExec = tol.filter((t) => t.effect === "NoExecute").map((t) => `${t.key}=${t.tolerationSeconds}`).sort();
      expect(noExec).toEqual([`node.kubernetes.io/not-ready=${TOLERATION_S}`, `node.kubernetes.io/unreachable=${TOLERATION_S}`]);
    }
  }, 120_000);

  it("SIGKILL one hollow process: its nodes go Ready=Unknown after the grace period and get the unreachable taints", async () => {
    expect(before).toHaveLength(REPLICAS);
    // Watch the Deployment through the outage (READY column dips, then recovers).
    watch = k.background(["-n", NS, "get", "deployment", "web", "-w", "--no-headers", "-o", "custom-columns=N:.metadata.name,READY:.status.readyReplicas,AVAILABLE:.status.availableReplicas"]);
    await watch.waitFor(/web\s+6\s+6/, 15_000);
    const lost = hollows.get("lost-")!.child;
    const exited = new Promise<void>((r) => lost.once("exit", () => r()));
    process.kill(lost.pid!, "SIGKILL");
    killedAt = Date.now();
    await exited;
    const lostNodes = await until("lost-0..2 Ready=Unknown with unreachable taints", async () => {
      const ns = (await items(["get", "nodes"])).filter((n) => LOST.includes(n.metadata.name));
      const done = ns.length === 3 && ns.every((n) => cond(n, "Ready")?.status === "Unknown" &&
        (n.spec?.taints ?? []).some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute"));
      return done ? ns : undefined;
    }, 60_000);
    const leases = await items(["-n", "kube-node-lease", "get", "leases"]);
    for (const n of lostNodes) {
      const ready = cond(n, "Ready")!;
      expect(ready).toMatchObject({ status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
      // "After the grace period": the transition came at least GRACE_S after the last Lease renewal
      // (lastTransitionTime has 1 s resolution, hence the slack).
      const lease = leases.find((l) => l.metadata.name === n.metadata.name);
      const renewed = secs(lease?.spec?.renewTime);
      expect(Number.isFinite(renewed)).toBe(true);
      expect(secs(ready.lastTransitionTime) - renewed).toBeGreaterThanOrEqual(GRACE_S - 1);
      expect(cond(n, "MemoryPressure")?.status).toBe("Unknown");
      const taints = (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
      expect(taints).toEqual(["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]);
    }
    // The surviving process's nodes stay Ready and untainted.
    const keep = (await items(["get", "nodes"])).filter((n) => KEEP.includes(n.metadata.name));
    expect(keep.every((n) => cond(n, "Ready")?.status === "True" && (n.spec?.taints ?? []).length === 0)).toBe(true);
    const table = await k.ok(["get", "nodes", "--no-headers"]);
    for (const name of LOST) expect(table).toMatch(new RegExp(`^${name}\\s+NotReady\\s`, "m"));
  }, 90_000);

  it("pods on the lost nodes are evicted after their 2 s toleration and recreated on the surviving nodes", async () => {
    expect(killedAt).toBeGreaterThan(0);
    const doomed = before.filter((p) => LOST.includes(p.spec?.nodeName ?? ""));
    const survivors = before.filter((p) => KEEP.includes(p.spec?.nodeName ?? ""));
    // Evicted = deleted by the taint manager; the dead kubelet cannot finish the deletion, so they
    // stay Terminating (or are gone if something removed them).
    const evicted = await until("the lost nodes' pods evicted", async () => {
      const all = await items(["-n", NS, "get", "pods", "-l", "app=web"]);
      const mine = doomed.map((d) => all.find((p) => p.metadata.uid === d.metadata.uid));
      return mine.every((p) => p === undefined || p.metadata.deletionTimestamp !== undefined) ? mine : undefined;
    }, 60_000);
    const nodes = await items(["get", "nodes"]);
    for (const p of evicted) {
      if (p === undefined) continue;
      expect(cond(p, "DisruptionTarget")).toMatchObject({ status: "True", reason: "DeletionByTaintManager" });
      // Deleted no earlier than tolerationSeconds after the NoExecute taint was added (1 s resolution).
      const taint = nodes.find((n) => n.metadata.name === p.spec?.nodeName)?.spec?.taints?.find((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute");
      const deletedAt = secs(p.metadata.deletionTimestamp) - (p.metadata.deletionGracePeriodSeconds ?? 0);
      expect(deletedAt - secs(taint?.timeAdded)).toBeGreaterThanOrEqual(TOLERATION_S - 1);
    }
    const events = await k.ok(["-n", NS, "get", "events", "--field-selector", "reason=TaintManagerEviction", "--no-headers", "-o", "custom-columns=MSG:.message"]);
    for (const d of doomed) expect(events).toContain(`Marking for deletion Pod ${NS}/${d.metadata.name}`);

    // The ReplicaSet replaces them; the scheduler puts the replacements on the surviving nodes.
    const now = await until("6 Running pods on the surviving nodes", async () => {
      const live = await livePods();
      return live.length === REPLICAS && live.every((p) => KEEP.includes(p.spec?.nodeName ?? "") && isRunningReady(p)) ? live : undefined;
    }, 60_000);
    expect(now.filter((p) => doomed.some((d) => d.metadata.uid === p.metadata.uid))).toHaveLength(0);
    for (const s of survivors) expect(now.some((p) => p.metadata.uid === s.metadata.uid)).toBe(true); // untouched
    const out = await k.ok(["-n", NS, "rollout", "status", "deployment/web", "--timeout=60s"], { timeoutMs: 70_000 });
    expect(out).toContain(`deployment "web" successfully rolled out`);
    const dep = JSON.parse(await k.ok(["-n", NS, "get", "deployment", "web", "-o", "json"])) as Obj;
    expect(dep.status).toMatchObject({ replicas: REPLICAS, updatedReplicas: REPLICAS, readyReplicas: REPLICAS, availableReplicas: REPLICAS });
    const wide = await k.ok(["-n", NS, "get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"]);
    const running = wide.split("\n").filter((l) => /\sRunning\s/.test(l));
    expect(running).toHaveLength(REPLICAS);
    expect(running.every((l) => KEEP.some((n) => l.includes(` ${n} `)))).toBe(true);
    // The Deployment was seen losing readiness during the outage and regaining it.
    const seen = watch?.stdout() ?? "";
    expect(seen).toMatch(/web\s+([0-5]|<none>)\s+/);
    expect(seen.trim().split("\n").at(-1)).toMatch(/web\s+6\s+6/);
    await watch?.stop();
    process.stderr.write(`failover: killed → all ${REPLICAS} Running on survivors in ${((Date.now() - killedAt) / 1000).toFixed(1)} s (grace ${GRACE_S} s, toleration ${TOLERATION_S} s)\n`);
  }, 150_000);
});
