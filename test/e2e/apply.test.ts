/**
 * Declarative management (issue 6) with the real kubectl against a live `tug server`:
 * client-side apply (3-way strategic merge patch), server-side apply with field managers,
 * conflicts and --force-conflicts, diff, strategic patch directives, set image, the
 * client-side -> server-side upgrade path, and the managedFields kubectl shows. kubectl 1.32 runs
 * everything; 1.29 and 1.33 a subset.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Kubectl, startTug, type KubectlVersion, type TugProcess } from "./harness.ts";

let tug: TugProcess;

beforeAll(async () => {
  tug = await startTug({ apiOnly: true }); // managedFields shapes without controller writes
});

afterAll(async () => {
  await tug?.stop();
});

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  time?: string;
  subresource?: string;
}

interface Obj {
  metadata: { resourceVersion: string; generation?: number; managedFields?: Entry[]; annotations?: Record<string, string> };
  spec: {
    replicas: number;
    template: { spec: { containers: { name: string; image: string; env?: { name: string; value?: string }[] }[] } };
  };
}

function asObj(text: string): Obj {
  return parseYaml(text) as Obj; // kubectl's YAML/JSON rendering of one Deployment
}

const manifest = (name: string, o: { replicas?: number; image?: string; env?: Record<string, string>; containers?: string[] } = {}): string => {
  const env = Object.entries(o.env ?? {}).map(([k, v]) => `        - name: ${k}\n          value: "${v}"\n`).join("");
  const extra = (o.containers ?? []).map((c) => `      - name: ${c}\n        image: busybox:1.36\n`).join("");
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${o.replicas ?? 2}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: main
        image: ${o.image ?? "nginx:1.25"}
${env ? `        env:\n${env}` : ""}${extra}`;
};

function managersOf(o: Obj): string[] {
  return (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ""}`).sort();
}

describe("kubectl 1.32: declarative management", () => {
  const NS = "decl";
  let k: Kubectl;
  const n = (args: string[]): string[] => ["-n", NS, ...args];
  const get = async (name: string): Promise<Obj> => asObj(await k.ok(n(["get", "deployment", name, "-o", "yaml", "--show-managed-fields"])));

  beforeAll(async () => {
    k = new Kubectl("1.32", tug.kubeconfig);
    await k.ok(["create", "namespace", NS]);
  });
  afterAll(() => k.cleanup());

  it("apply -f creates, then updates replicas, image and drops an env var (3-way SMP)", async () => {
    expect(await k.ok(n(["apply", "-f", "-"]), { input: manifest("web", { env: { A: "1", B: "2" } }) })).toBe("deployment.apps/web created\n");
    const created = await get("web");
    expect(managersOf(created)).toEqual(["kubectl-client-side-apply/Update"]);
    expect(created.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain('"name":"web"');

    const r = await k.run(n(["apply", "-f", "-", "-v=8"]), { input: manifest("web", { replicas: 3, image: "nginx:1.27", env: { A: "1" } }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("deployment.apps/web configured\n");
    // What kubectl sent: a strategic merge patch deleting B by key and ordering env.
    const sent = r.stderr.replaceAll("\\", ""); // -v=8 quotes the body
    expect(sent).toMatch(/Content-Type: application\/strategic-merge-patch\+json/);
    expect(sent).toContain('"$setElementOrder/env":[{"name":"A"}]');
    expect(sent).toContain('"env":[{"$patch":"delete","name":"B"}]');

    const up = await get("web");
    expect(up.spec.replicas).toBe(3);
    expect(up.spec.template.spec.containers[0]?.image).toBe("nginx:1.27");
    expect(up.spec.template.spec.containers[0]?.env).toEqual([{ name: "A", value: "1" }]);
    expect(up.metadata.generation).toBe(2);
    expect(managersOf(up)).toEqual(["kubectl-client-side-apply/Update"]);

    expect(await k.ok(n(["apply", "-f", "-"]), { input: manifest("web", { replicas: 3, image: "nginx:1.27", env: { A: "1" } }) })).toBe("deployment.apps/web unchanged\n");
    expect((await get("web")).metadata.resourceVersion).toBe(up.metadata.resourceVersion);
  });

  it("diff exits 0 when equal and 1 with differences", async () => {
    const same = await k.run(n(["diff", "-f", "-"]), { input: manifest("web", { replicas: 3, image: "nginx:1.27", env: { A: "1" } }) });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe("");
    const changed = await k.run(n(["diff", "-f", "-"]), { input: manifest("web", { replicas: 5, image: "nginx:1.27", env: { A: "1" } }) });
    expect(changed.code, changed.stderr).toBe(1);
    expect(changed.stdout).toMatch(/^-\s+replicas: 3$/m);
    expect(changed.stdout).toMatch(/^\+\s+replicas: 5$/m);
    expect((await get("web")).spec.replicas).toBe(3); // dryRun: nothing stored
  });

  it("set image patches one container (SMP with $setElementOrder)", async () => {
    expect(await k.ok(n(["set", "image", "deployment/web", "main=nginx:1.28"]))).toBe("deployment.apps/web image updated\n");
    const o = await get("web");
    expect(o.spec.template.spec.containers.map((c) => c.image)).toEqual(["nginx:1.28"]);
    expect(managersOf(o)).toEqual(["kubectl-client-side-apply/Update", "kubectl-set/Update"]);
  });

  it("patch --type strategic: $setElementOrder reorders, $patch: delete removes", async () => {
    await k.ok(n(["apply", "-f", "-"]), { input: manifest("multi", { containers: ["side", "log"] }) });
    const order = '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"log"},{"name":"main"},{"name":"side"}],"containers":[{"name":"main","image":"nginx:1.26"}]}}}}';
    expect(await k.ok(n(["patch", "deployment", "multi", "--type", "strategic", "-p", order]))).toBe("deployment.apps/multi patched\n");
    let o = await get("multi");
    expect(o.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(["log=busybox:1.36", "main=nginx:1.26", "side=busybox:1.36"]);
    const del = '{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}';
    expect(await k.ok(n(["patch", "deployment", "multi", "-p", del]))).toBe("deployment.apps/multi patched\n");
    o = await get("multi");
    expect(o.spec.template.spec.containers.map((c) => c.name)).toEqual(["log", "main"]);
    const bad = await k.fails(n(["patch", "deployment", "multi", "-p", '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}']));
    expect(bad).toBe('Error from server (BadRequest): map: map[image:x] does not contain declared merge key: name');
    const badType = await k.fails(n(["patch", "deployment", "multi", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"main","$patch":"frob"}]}}}}']));
    expect(badType).toBe("Error from server (BadRequest): unknown patch type: frob in map: map[$patch:frob name:main]");
    expect(managersOf(await get("multi"))).toEqual(["kubectl-client-side-apply/Update", "kubectl-patch/Update"]);
  });

  it("apply --server-side creates with an Apply entry", async () => {
    expect(await k.ok(n(["apply", "--server-side", "-f", "-"]), { input: manifest("ssa") })).toBe("deployment.apps/ssa serverside-applied\n");
    const o = await get("ssa");
    expect(managersOf(o)).toEqual(["kubectl/Apply"]);
    const e = o.metadata.managedFields?.[0] as Entry;
    expect(e).toMatchObject({ manager: "kubectl", operation: "Apply", apiVersion: "apps/v1", fieldsType: "FieldsV1" });
    expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(e.fieldsV1).toEqual({
      "f:metadata": { "f:labels": { "f:app": {} } },
      "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": { "f:containers": { 'k:{"name":"main"}': { ".": {}, "f:image": {}, "f:name": {} } } },
        },
      },
    });
    // A second identical apply changes nothing.
    expect(await k.ok(n(["apply", "--server-side", "-f", "-"]), { input: manifest("ssa") })).toBe("deployment.apps/ssa serverside-applied\n");
    expect((await get("ssa")).metadata.resourceVersion).toBe(o.metadata.resourceVersion);
  });

  it("conflicts between field managers, resolved with --force-conflicts", async () => {
    await k.ok(n(["apply", "--server-side", "--field-manager=a", "-f", "-"]), { input: manifest("conf", { replicas: 1 }) });
    const err = await k.fails(n(["apply", "--server-side", "--field-manager=b", "-f", "-"]), { input: manifest("conf", { replicas: 2 }) });
    expect(err).toContain('Apply failed with 1 conflict: conflict with "a": .spec.replicas');
    expect(err).toContain("--force-conflicts");
    expect((await get("conf")).spec.replicas).toBe(1);
    expect(await k.ok(n(["apply", "--server-side", "--field-manager=b", "--force-conflicts", "-f", "-"]), { input: manifest("conf", { replicas: 2 }) }))
      .toBe("deployment.apps/conf serverside-applied\n");
    const o = await get("conf");
    expect(o.spec.replicas).toBe(2);
    const a = o.metadata.managedFields?.find((e) => e.manager === "a");
    expect(JSON.stringify(a?.fieldsV1)).not.toContain("f:replicas");
    expect(JSON.stringify(o.metadata.managedFields?.find((e) => e.manager === "b")?.fieldsV1)).toContain("f:replicas");
  });

  it("apply --server-side after client-side apply upgrades without conflicts", async () => {
    await k.ok(n(["apply", "-f", "-"]), { input: manifest("up") });
    const r = await k.run(n(["apply", "--server-side", "-f", "-"]), { input: manifest("up", { replicas: 4 }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("deployment.apps/up serverside-applied\n");
    const o = await get("up");
    expect(o.spec.replicas).toBe(4);
    // kubectl migrated kubectl-client-side-apply's fields to its Apply entry (csaupgrade) and
    // kept the last-applied annotation under kubectl-last-applied.
    expect(managersOf(o)).toEqual(["kubectl-last-applied/Apply", "kubectl/Apply"]);
    expect(o.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toBeTruthy();
  });

  it("apply --server-side --dry-run=server does not persist", async () => {
    const before = await get("ssa");
    expect(await k.ok(n(["apply", "--server-side", "--dry-run=server", "-f", "-"]), { input: manifest("ssa", { replicas: 9 }) }))
      .toBe("deployment.apps/ssa serverside-applied (server dry run)\n");
    expect((await get("ssa")).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});

// kubectl 1.29 is not in the harness's version list; the binary sits beside the others.
describe.each(["1.29" as KubectlVersion, "1.33" as const])("kubectl %s: apply subset", (version) => {
  const NS = `decl${version.replace(".", "")}`;
  let k: Kubectl;
  const n = (args: string[]): string[] => ["-n", NS, ...args];

  beforeAll(async () => {
    k = new Kubectl(version, tug.kubeconfig);
    await k.ok(["create", "namespace", NS]);
  });
  afterAll(() => k.cleanup());

  it("client-side apply create + update", async () => {
    expect(await k.ok(n(["apply", "-f", "-"]), { input: manifest("web", { env: { A: "1", B: "2" } }) })).toBe("deployment.apps/web created\n");
    expect(await k.ok(n(["apply", "-f", "-"]), { input: manifest("web", { replicas: 3, env: { A: "1" } }) })).toBe("deployment.apps/web configured\n");
    const o = asObj(await k.ok(n(["get", "deployment", "web", "-o", "json"])));
    expect(o.spec.replicas).toBe(3);
    expect(o.spec.template.spec.containers[0]?.env).toEqual([{ name: "A", value: "1" }]);
  });

  it("server-side apply, conflict, force", async () => {
    expect(await k.ok(n(["apply", "--server-side", "--field-manager=a", "-f", "-"]), { input: manifest("conf", { replicas: 1 }) })).toBe("deployment.apps/conf serverside-applied\n");
    const err = await k.fails(n(["apply", "--server-side", "--field-manager=b", "-f", "-"]), { input: manifest("conf", { replicas: 2 }) });
    expect(err).toContain('Apply failed with 1 conflict: conflict with "a": .spec.replicas');
    await k.ok(n(["apply", "--server-side", "--field-manager=b", "--force-conflicts", "-f", "-"]), { input: manifest("conf", { replicas: 2 }) });
    expect(asObj(await k.ok(n(["get", "deployment", "conf", "-o", "json"]))).spec.replicas).toBe(2);
  });

  it("server-side apply after client-side apply", async () => {
    await k.ok(n(["apply", "--server-side", "-f", "-"]), { input: manifest("web", { replicas: 5, env: { A: "1" } }) });
    const o = asObj(await k.ok(n(["get", "deployment", "web", "-o", "json", "--show-managed-fields"])));
    expect(o.spec.replicas).toBe(5);
    expect(managersOf(o)).toContain("kubectl/Apply");
  });
});
