/**
 * PodDisruptionBudgets with the real kubectl 1.32 against `tug server` (controllers, scheduler) and
 * `tug hollow --nodes 2`: `kubectl cordon`/`uncordon` flip `spec.unschedulable`; `kubectl drain
 * --ignore-daemonsets --delete-emptydir-data` evicts through `pods/eviction`, is held back (429,
 * retried by kubectl every 5 s) while the budget allows no disruption, and finishes once the budget
 * is loosened and the disruption controller reports room.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, REPO, startTug, type TugProcess } from "./harness.ts";

let tug: TugProcess;
let k: Kubectl;
let hollow: ChildProcess | undefined;

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 2000; i++) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}\nserver stderr: ${tug.stderr().slice(-2000)}`);
}

function startHollow(): Promise<void> {
  const child = spawn(process.execPath, [join(REPO, "bin/tug.js"), "hollow", "--kubeconfig", tug.kubeconfig, "--nodes", "2", "--name-prefix", "dr-"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  hollow = child;
  let out = "";
  child.stdout?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tug hollow did not register in time\n${out}`)), 30_000);
    const check = setInterval(() => {
      if (/registered/.test(out)) { clearTimeout(timer); clearInterval(check); res(); }
    }, 50);
    child.once("exit", (code) => { clearTimeout(timer); clearInterval(check); rej(new Error(`tug hollow exited ${String(code)}\n${out}`)); });
  });
}

/** A running kubectl with its output and exit code (the harness's background runner keeps no stderr). */
function kubectlBackground(args: readonly string[]): { stdout(): string; stderr(): string; exitCode(): number | null; stop(): Promise<void> } {
  const child = spawn(k.bin, ["--kubeconfig", tug.kubeconfig, "--cache-dir", join(k.home, "cache"), ...args], {
    env: { ...process.env, HOME: k.home, NO_COLOR: "1", KUBECONFIG: "" }, stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => { out += d.toString("utf8"); });
  child.stderr?.on("data", (d: Buffer) => { err += d.toString("utf8"); });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    stdout: () => out, stderr: () => err, exitCode: () => child.exitCode,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Pod { metadata: { name: string; uid: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status?: { phase?: string } }

async function webPods(): Promise<Pod[]> {
  return (JSON.parse(await k.ok(["get", "pods", "-l", "app=web", "-o", "json"])) as { items: Pod[] }).items;
}

async function pdbStatus(): Promise<{ disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; expectedPods?: number }> {
  return (JSON.parse(await k.ok(["get", "pdb", "web", "-o", "json"])) as { status?: Record<string, number> }).status ?? {};
}

beforeAll(async () => {
  tug = await startTug();
  k = new Kubectl("1.32", tug.kubeconfig);
  await startHollow();
  await until("2 nodes", 30_000, async () => (await k.ok(["get", "nodes", "-o", "name"])).trim().split("\n").length === 2);
}, 90_000);

afterAll(async () => {
  if (hollow && hollow.exitCode === null && hollow.signalCode === null) {
    hollow.kill("SIGTERM");
    await new Promise((r) => hollow?.once("exit", r));
  }
  k?.cleanup();
  await tug?.stop();
});

describe("kubectl 1.32: cordon, uncordon and drain against PodDisruptionBudgets", () => {
  it("cordon and uncordon set and clear spec.unschedulable", async () => {
    expect(await k.ok(["cordon", "dr-1"])).toContain("node/dr-1 cordoned");
    expect(await k.ok(["get", "node", "dr-1", "-o", "jsonpath={.spec.unschedulable}"])).toBe("true");
    expect(await k.ok(["uncordon", "dr-1"])).toContain("node/dr-1 uncordoned");
    expect(await k.ok(["get", "node", "dr-1", "-o", "jsonpath={.spec.unschedulable}"])).toBe("");
  }, 30_000);

  it("drain blocks while the budget is exhausted and proceeds once it allows a disruption", async () => {
    await k.ok(["create", "deployment", "web", "--image=nginx", "--replicas=2"]);
    await k.ok(["create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=2"]);
    await until("2 running web pods and the budget computed", 60_000, async () => {
      const pods = (await webPods()).filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp);
      const st = await pdbStatus();
      return pods.length === 2 && st.currentHealthy === 2 && st.desiredHealthy === 2 && st.disruptionsAllowed === 0;
    });
    const victim = (await webPods())[0];
    const node = victim?.spec.nodeName;
    expect(node).toMatch(/^dr-[01]$/);
    const onNode = (await webPods()).filter((p) => p.spec.nodeName === node).map((p) => p.metadata.uid);

    const drain = kubectlBackground(["drain", node ?? "", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s"]);
    try {
      await until("drain to hit the budget", 20_000, async () => drain.stderr().includes("Cannot evict pod as it would violate the pod's disruption budget.") || drain.stdout().includes("Cannot evict pod"));
      expect(await k.ok(["get", "node", node ?? "", "-o", "jsonpath={.spec.unschedulable}"])).toBe("true");
      // Still blocked a little later: the pods on the node are untouched.
      await new Promise((r) => setTimeout(r, 2_000));
      const still = (await webPods()).filter((p) => onNode.includes(p.metadata.uid));
      expect(still.map((p) => p.metadata.deletionTimestamp)).toEqual(onNode.map(() => undefined));

      await k.ok(["patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":1}}']);
      const exit = await until("drain to finish", 100_000, async () => drain.exitCode() ?? undefined);
      expect(exit, `stdout: ${drain.stdout()}\nstderr: ${drain.stderr()}`).toBe(0);
      expect(drain.stdout()).toContain(`node/${node} drained`);
      expect(drain.stdout()).toMatch(/pod\/web-[a-z0-9-]+ evicted/);
    } finally {
      await drain.stop();
    }
    const after = await webPods();
    expect(after.filter((p) => onNode.includes(p.metadata.uid))).toEqual([]);
    await k.ok(["uncordon", node ?? ""]);
  }, 180_000);
});
