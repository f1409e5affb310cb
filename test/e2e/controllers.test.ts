/**
 * Acceptance (issue 4, controllers part): the real kubectl 1.32 against `tug server` with its
 * controller-manager. No scheduler or kubelet yet, so pods stay Pending and rollouts do not
 * complete; the tests check objects, owner references, labels, revisions and status fields.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, startTug, tableRows, type TugProcess, until as untilDone } from "./harness.ts";

let tug: TugProcess;
let k: Kubectl;
const NS = "ctl";
const n = (args: string[]): string[] => ["-n", NS, ...args];

interface Obj {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

async function getJson<T = Obj>(args: string[]): Promise<T> {
  return JSON.parse(await k.ok([...args, "-o", "json"])) as T;
}

async function items(args: string[]): Promise<Obj[]> {
  return (await getJson<{ items: Obj[] }>(args)).items;
}

/** Polls until `f` returns a value (not undefined/false) or the time is up. */
const until = <T,>(what: string, f: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> => untilDone(what, f, ms);

const rsOf = async (deploy: string): Promise<Obj[]> =>
  (await items(n(["get", "rs"]))).filter((r) => r.metadata.ownerReferences?.some((o) => o.kind === "Deployment" && o.name === deploy));

beforeAll(async () => {
  tug = await startTug();
  k = new Kubectl("1.32", tug.kubeconfig);
  await k.ok(["create", "namespace", NS]);
});

afterAll(async () => {
  await tug?.stop();
  k?.cleanup();
});

describe("kubectl 1.32 + controllers: deployments", () => {
  it("create deployment -> a ReplicaSet and 3 Pending pods with owner references and labels", async () => {
    await k.ok(n(["create", "deployment", "web", "--image=nginx", "--replicas=3"]));
    const pods = await until("3 pods", async () => {
      const p = await items(n(["get", "pods", "-l", "app=web"]));
      return p.length === 3 ? p : undefined;
    });
    const [rs] = await rsOf("web");
    expect(rs).toBeDefined();
    const hash = rs!.metadata.labels?.["pod-template-hash"];
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(rs!.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Deployment", name: "web", controller: true, blockOwnerDeletion: true });
    for (const p of pods) {
      expect(p.metadata.name.startsWith(`web-${hash}-`)).toBe(true);
      expect(p.metadata.labels).toEqual({ app: "web", "pod-template-hash": hash });
      expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "ReplicaSet", name: rs!.metadata.name, uid: rs!.metadata.uid, controller: true })]);
      expect(p.status?.["phase"]).toBe("Pending");
    }
    const rows = tableRows(await k.ok(n(["get", "rs"])));
    expect(rows[0]).toEqual(["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    expect(rows[1]?.slice(0, 4)).toEqual([`web-${hash}`, "3", "3", "0"]);
  });

  it("status carries the fields kubectl rollout status reads", async () => {
    const d = await until("deployment status", async () => {
      const x = await getJson(n(["get", "deployment", "web"]));
      return x.status?.["replicas"] === 3 ? x : undefined;
    });
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, unavailableReplicas: 3 });
    const conds = d.status?.["conditions"] as Array<{ type: string; status: string; reason: string }>;
    expect(conds.find((c) => c.type === "Available")).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable" });
    expect(conds.find((c) => c.type === "Progressing")).toMatchObject({ status: "True" });
    expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    const r = await k.run(n(["rollout", "status", "deployment/web", "--timeout=1s"]));
    expect(r.stdout + r.stderr).toMatch(/Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available/);
  });

  it("scale up and down changes the pods", async () => {
    await k.ok(n(["scale", "deployment", "web", "--replicas=5"]));
    await until("5 pods", async () => (await items(n(["get", "pods", "-l", "app=web"]))).length === 5);
    await k.ok(n(["scale", "deployment", "web", "--replicas=2"]));
    await until("2 pods", async () => (await items(n(["get", "pods", "-l", "app=web"]))).length === 2);
    const [rs] = await rsOf("web");
    expect(rs!.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"]).toBe("2");
  });

  it("set image -> a new ReplicaSet at revision 2; rollout history lists 2 revisions", async () => {
    await k.ok(n(["scale", "deployment", "web", "--replicas=3"]));
    await until("3 pods", async () => (await items(n(["get", "pods", "-l", "app=web"]))).length === 3);
    await k.ok(n(["set", "image", "deployment/web", "nginx=nginx:1.27"]));
    const rss = await until("2 replica sets", async () => {
      const r = await rsOf("web");
      return r.length === 2 ? r : undefined;
    });
    const byRev = Object.fromEntries(rss.map((r) => [r.metadata.annotations?.["deployment.kubernetes.io/revision"], r]));
    expect(Object.keys(byRev).sort()).toEqual(["1", "2"]);
    const tpl = (r: Obj | undefined): string => ((r?.spec?.["template"] as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]?.image ?? "");
    expect(tpl(byRev["2"])).toBe("nginx:1.27");
    // nothing is available (no kubelet): maxSurge 1 lets one new pod in, the old RS keeps 3
    await until("surge", async () => {
      const r = await rsOf("web");
      const sizes = r.map((x) => [x.metadata.annotations?.["deployment.kubernetes.io/revision"], x.spec?.["replicas"]]).sort();
      return JSON.stringify(sizes) === JSON.stringify([["1", 3], ["2", 1]]);
    });
    const hist = await k.ok(n(["rollout", "history", "deployment/web"]));
    const rows = tableRows(hist).filter((r) => /^\d+$/.test(r[0] ?? ""));
    expect(rows.map((r) => r[0])).toEqual(["1", "2"]);
  });

  it("rollout undo returns to revision 1's template, reusing its ReplicaSet (now revision 3)", async () => {
    const before = await rsOf("web");
    const first = before.find((r) => r.metadata.annotations?.["deployment.kubernetes.io/revision"] === "1")!;
    expect(await k.ok(n(["rollout", "undo", "deployment/web"]))).toMatch(/deployment.apps\/web rolled back/);
    await until("revision 3 on the first RS", async () => {
      const r = (await rsOf("web")).find((x) => x.metadata.uid === first.metadata.uid);
      return r?.metadata.annotations?.["deployment.kubernetes.io/revision"] === "3" ? r : undefined;
    });
    expect(await rsOf("web")).toHaveLength(2);
    const d = await getJson(n(["get", "deployment", "web"]));
    expect(((d.spec?.["template"] as { spec: { containers: Array<{ image: string }> } }).spec.containers[0]?.image)).toBe("nginx");
    const r = (await rsOf("web")).find((x) => x.metadata.uid === first.metadata.uid)!;
    expect(r.metadata.annotations?.["deployment.kubernetes.io/revision-history"]).toBe("1");
  });

  it("rollout pause stops rollout progress; resume continues", async () => {
    await k.ok(n(["rollout", "pause", "deployment/web"]));
    await until("paused condition", async () => {
      const d = await getJson(n(["get", "deployment", "web"]));
      return (d.status?.["conditions"] as Array<{ type: string; reason: string }>).some((c) => c.type === "Progressing" && c.reason === "DeploymentPaused");
    });
    await k.ok(n(["set", "image", "deployment/web", "nginx=nginx:1.28"]));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rsOf("web")).toHaveLength(2); // no new RS while paused
    await k.ok(n(["rollout", "resume", "deployment/web"]));
    await until("third RS", async () => (await rsOf("web")).length === 3);
  });

  it("delete deployment (background) removes its ReplicaSets and pods", async () => {
    await k.ok(n(["delete", "deployment", "web"]));
    await until("RSs collected", async () => (await items(n(["get", "rs", "-l", "app=web"]))).length === 0);
    await until("pods collected", async () => (await items(n(["get", "pods", "-l", "app=web"]))).length === 0);
  });

  it("delete --cascade=orphan keeps the ReplicaSet and pods, without owner references", async () => {
    await k.ok(n(["create", "deployment", "keep", "--image=nginx", "--replicas=2"]));
    await until("2 pods", async () => (await items(n(["get", "pods", "-l", "app=keep"]))).length === 2);
    await k.ok(n(["delete", "deployment", "keep", "--cascade=orphan"]));
    await until("deployment gone", async () => (await items(n(["get", "deployments"]))).every((d) => d.metadata.name !== "keep"));
    const rs = await until("orphaned RS", async () => {
      const r = await items(n(["get", "rs", "-l", "app=keep"]));
      return r.length === 1 && r[0]!.metadata.ownerReferences === undefined ? r : undefined;
    });
    expect(rs).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await items(n(["get", "pods", "-l", "app=keep"]))).toHaveLength(2);
  });

  it("delete --cascade=foreground removes the dependents before the deployment", async () => {
    await k.ok(n(["create", "deployment", "fg", "--image=nginx", "--replicas=2"]));
    await until("2 pods", async () => (await items(n(["get", "pods", "-l", "app=fg"]))).length === 2);
    await k.ok(n(["delete", "deployment", "fg", "--cascade=foreground"]), { timeoutMs: 30_000 });
    expect(await items(n(["get", "rs", "-l", "app=fg"]))).toHaveLength(0);
    expect(await items(n(["get", "pods", "-l", "app=fg"]))).toHaveLength(0);
  });
});

describe("kubectl 1.32 + controllers: namespaces, service accounts, events", () => {
  it("a new namespace gets a default ServiceAccount; deleting it removes its content", async () => {
    await k.ok(["create", "namespace", "gone"]);
    await until("default SA", async () => (await items(["-n", "gone", "get", "serviceaccounts"])).some((s) => s.metadata.name === "default"));
    await k.ok(["-n", "gone", "create", "deployment", "x", "--image=nginx", "--replicas=2"]);
    await until("pods", async () => (await items(["-n", "gone", "get", "pods"])).length === 2);
    await k.ok(["delete", "namespace", "gone"], { timeoutMs: 30_000 });
    await until("namespace gone", async () => (await k.run(["get", "namespace", "gone"])).code !== 0);
    expect(await items(["-n", "gone", "get", "pods"])).toHaveLength(0);
  });

  it("a ReplicaSet whose pods cannot be created gets a FailedCreate Warning and ReplicaFailure; the controller keeps going", async () => {
    const manifest = `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: broken}
spec:
  replicas: 2
  selector: {matchLabels: {app: broken}}
  template:
    metadata:
      labels: {app: broken}
      finalizers: ["not a valid finalizer!"]
    spec: {containers: [{name: c, image: nginx}]}
`;
    await k.ok(n(["create", "-f", "-"]), { input: manifest });
    const ev = await until("FailedCreate event", async () => {
      const evs = await items(n(["get", "events", "--field-selector", "involvedObject.name=broken"]));
      return evs.find((e) => (e as unknown as { reason: string }).reason === "FailedCreate");
    });
    expect((ev as unknown as { type: string; message: string }).type).toBe("Warning");
    expect((ev as unknown as { message: string }).message).toMatch(/^Error creating: /);
    await until("ReplicaFailure", async () => {
      const rs = await getJson(n(["get", "rs", "broken"]));
      return (rs.status?.["conditions"] as Array<{ type: string; reason: string }> | undefined)?.some((c) => c.type === "ReplicaFailure" && c.reason === "FailedCreate");
    });
    // other work continues
    await k.ok(n(["create", "deployment", "after", "--image=nginx", "--replicas=1"]));
    await until("pod of a later deployment", async () => (await items(n(["get", "pods", "-l", "app=after"]))).length === 1);
  });
});
