/**
 * Acceptance (issue 4, node agent part): real kubectl 1.32 against a `tug server` process and a
 * `tug hollow --nodes 3` process (three hollow kubelets with their own watches and leases).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, REPO, runTug, startTug, tableRows, type TugProcess, until as untilDone } from "./harness.ts";

let tug: TugProcess;
let hollow: ChildProcess;
let hollowOut = "";
let k: Kubectl;

const until = <T,>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> => untilDone(what, f, ms, () => `hollow: ${hollowOut}`);

beforeAll(async () => {
  tug = await startTug({ args: ["--disable", "controller-manager"] });
  k = new Kubectl("1.32", tug.kubeconfig);
  hollow = spawn(process.execPath, [join(REPO, "bin/tug.js"), "hollow", "--kubeconfig", tug.kubeconfig, "--nodes", "3"], {
    cwd: REPO, stdio: ["ignore", "pipe", "pipe"],
  });
  hollow.stdout?.on("data", (d: Buffer) => { hollowOut += d.toString("utf8"); });
  hollow.stderr?.on("data", (d: Buffer) => { hollowOut += d.toString("utf8"); });
  await until("tug hollow registered", async () => hollowOut.includes("registered"), 30_000);
}, 60_000);

afterAll(async () => {
  if (hollow && hollow.exitCode === null) {
    const exited = new Promise((r) => hollow.once("exit", r));
    hollow.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (hollow.exitCode === null) hollow.kill("SIGKILL");
  }
  await tug?.stop();
  k?.cleanup();
});

describe("tug hollow + kubectl 1.32", () => {
  it("kubectl get nodes shows 3 Ready nodes with the wide columns", async () => {
    const out = await k.ok(["get", "nodes", "-o", "wide"]);
    const rows = tableRows(out);
    expect(rows[0]).toEqual(["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]);
    const nodes = rows.slice(1);
    expect(nodes.map((r) => r[0])).toEqual(["hollow-0", "hollow-1", "hollow-2"]);
    for (const r of nodes) {
      expect(r[1]).toBe("Ready");
      expect(r[4]).toBe("v1.32.0-tugboat");
      expect(r[5]).toMatch(/^127\.1\.0\.[0-2]$/);
      expect(r[9]).toMatch(/^hollow:\/\//);
    }
    const leases = await k.ok(["get", "leases", "-n", "kube-node-lease", "-o", "name"]);
    expect(leases.trim().split("\n").sort()).toEqual(["lease.coordination.k8s.io/hollow-0", "lease.coordination.k8s.io/hollow-1", "lease.coordination.k8s.io/hollow-2"]);
  });

  it("a pod created with nodeName runs (kubectl wait --for=condition=Ready) and kubectl delete completes", async () => {
    await k.ok(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default" },
        spec: { nodeName: "hollow-1", terminationGracePeriodSeconds: 3, containers: [{ name: "main", image: "nginx:1.27" }] },
      }),
    });
    await k.ok(["wait", "--for=condition=Ready", "pod/web", "--timeout=30s"], { timeoutMs: 40_000 });
    const rows = tableRows(await k.ok(["get", "pod", "web", "-o", "wide"]));
    expect(rows[1]?.slice(1, 3)).toEqual(["1/1", "Running"]);
    expect(rows[1]?.[6]).toBe("hollow-1");
    expect(rows[1]?.[5]).toMatch(/^10\.\d+\.\d+\.\d+$/);
    const t0 = Date.now();
    await k.ok(["delete", "pod", "web", "--timeout=30s"], { timeoutMs: 40_000 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const r = await k.run(["get", "pod", "web"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('pods "web" not found');
  }, 90_000);

  it("rejects bad flags with one clear line", async () => {
    const a = await runTug(["hollow", "--kubeconfig", tug.kubeconfig, "--nodes", "0"]);
    expect(a.exit.code).toBe(1);
    expect(a.stderr.trim()).toBe('tug: --nodes must be an integer from 1 to 100000, got "0"');
    const b = await runTug(["agent", "--kubeconfig", tug.kubeconfig, "--node-name", "Bad_Name"]);
    expect(b.exit.code).toBe(1);
    expect(b.stderr.trim()).toBe('tug: --node-name "Bad_Name" must be a lowercase RFC 1123 subdomain');
    const c = await runTug(["agent", "--kubeconfig", tug.kubeconfig, "--node-name", "n1", "--runtime", "docker"]);
    expect(c.exit.code).not.toBe(0);
    expect(c.stderr).toContain("docker");
  }, 60_000);
});
