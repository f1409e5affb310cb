/**
 * Acceptance (issue 2 §5): the real kubectl 1.32 against a live `tug server`, the full command list,
 * checking what kubectl prints. 1.32 sends protobuf bodies for `create namespace|configmap|
 * deployment|secret|service`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Kubectl, startTug, tableRows, type TugProcess } from "./harness.ts";

let tug: TugProcess;
let k: Kubectl;
const NS = "e2e";

beforeAll(async () => {
  tug = await startTug({ apiOnly: true }); // the API's own behaviour, no controllers
  k = new Kubectl("1.32", tug.kubeconfig);
});

afterAll(async () => {
  await tug?.stop();
  k?.cleanup();
});

const n = (args: string[]): string[] => ["-n", NS, ...args];

function parseJson(text: string): Record<string, unknown> {
  const v: unknown = JSON.parse(text);
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`not an object: ${text}`);
  return v as Record<string, unknown>; // checked just above
}

describe("kubectl 1.32: create", () => {
  it("creates a namespace (protobuf body)", async () => {
    expect(await k.ok(["create", "namespace", NS])).toBe(`namespace/${NS} created\n`);
    const out = await k.ok(["get", "namespace", NS]);
    const rows = tableRows(out);
    expect(rows[0]).toEqual(["NAME", "STATUS", "AGE"]);
    expect(rows[1]?.slice(0, 2)).toEqual([NS, "Active"]);
  });

  it("creates a configmap, a secret, a deployment and a service", async () => {
    expect(await k.ok(n(["create", "configmap", "cm1", "--from-literal=a=1", "--from-literal=b=2"]))).toBe("configmap/cm1 created\n");
    expect(await k.ok(n(["create", "secret", "generic", "s1", "--from-literal=password=hunter2"]))).toBe("secret/s1 created\n");
    expect(await k.ok(n(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=2"]))).toBe("deployment.apps/web created\n");
    expect(await k.ok(n(["create", "service", "clusterip", "web", "--tcp=80:8080"]))).toBe("service/web created\n");
  });

  it("sends protobuf request bodies (kubectl 1.32 typed clients)", async () => {
    const r = await k.run(n(["create", "configmap", "wire", "--from-literal=a=b", "-v=8"]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Content-Type: application\/vnd\.kubernetes\.protobuf/);
    expect(await k.ok(n(["delete", "configmap", "wire"]))).toBe('configmap "wire" deleted\n');
  });

  it("creates from a manifest on stdin (JSON body)", async () => {
    const manifest = ["c", "a", "b"].map((x, i) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: sort-${x}
  labels: {group: sorted, idx: "${i}"}
data: {val: "${x}"}
`).join("---\n");
    // Default --validate=strict: kubectl reads /openapi/v3 and sends fieldValidation=Strict.
    const out = await k.ok(n(["create", "-f", "-"]), { input: manifest });
    expect(out).toBe("configmap/sort-c created\nconfigmap/sort-a created\nconfigmap/sort-b created\n");
  });
});

describe("kubectl 1.32: get", () => {
  it("prints tables with the upstream columns", async () => {
    const cm = tableRows(await k.ok(n(["get", "configmaps", "cm1"])));
    expect(cm[0]).toEqual(["NAME", "DATA", "AGE"]);
    expect(cm[1]?.slice(0, 2)).toEqual(["cm1", "2"]);

    const sec = tableRows(await k.ok(n(["get", "secret", "s1"])));
    expect(sec[0]).toEqual(["NAME", "TYPE", "DATA", "AGE"]);
    expect(sec[1]?.slice(0, 3)).toEqual(["s1", "Opaque", "1"]);

    const dep = tableRows(await k.ok(n(["get", "deployments"])));
    expect(dep[0]).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    expect(dep[1]?.slice(0, 4)).toEqual(["web", "0/2", "0", "0"]);

    const svc = tableRows(await k.ok(n(["get", "svc", "web"])));
    expect(svc[0]).toEqual(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    expect(svc[1]?.[0]).toBe("web");
    expect(svc[1]?.[1]).toBe("ClusterIP");
    expect(svc[1]?.[4]).toBe("80/TCP");
  });

  it("-o wide adds the priority-1 columns", async () => {
    const rows = tableRows(await k.ok(n(["get", "deploy", "web", "-o", "wide"])));
    expect(rows[0]).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    expect(rows[1]?.slice(5)).toEqual(["nginx", "nginx:1.27", "app=web"]);
  });

  it("-o yaml and -o json print the stored object", async () => {
    const y = parseYaml(await k.ok(n(["get", "configmap", "cm1", "-o", "yaml"]))) as Record<string, unknown>;
    expect(y).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", data: { a: "1", b: "2" }, metadata: { name: "cm1", namespace: NS } });
    const meta = y["metadata"] as Record<string, unknown>;
    expect(meta["resourceVersion"]).toMatch(/^\d+$/);
    expect(meta["uid"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta["creationTimestamp"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const s = parseJson(await k.ok(n(["get", "secret", "s1", "-o", "json"])));
    expect(s).toMatchObject({ kind: "Secret", type: "Opaque", data: { password: Buffer.from("hunter2").toString("base64") } });

    const d = parseJson(await k.ok(n(["get", "deployment", "web", "-o", "json"])));
    expect(d).toMatchObject({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { generation: 1, labels: { app: "web" } },
      spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: { spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] } } },
    });
    // defaults applied by the server as upstream does
    expect(d).toMatchObject({ spec: { strategy: { type: "RollingUpdate" }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 } });

    const list = parseYaml(await k.ok(n(["get", "configmaps", "-o", "yaml"]))) as { kind: string; items: Array<{ metadata: { name: string } }> };
    expect(list.kind).toBe("List");
    expect(list.items.map((i) => i.metadata.name).sort()).toEqual(["cm1", "sort-a", "sort-b", "sort-c"]);
  });

  it("-o name, jsonpath and custom-columns", async () => {
    expect(await k.ok(n(["get", "configmap", "cm1", "-o", "name"]))).toBe("configmap/cm1\n");
    expect(await k.ok(n(["get", "deploy", "-o", "name"]))).toBe("deployment.apps/web\n");
    expect(await k.ok(n(["get", "configmap", "cm1", "-o", "jsonpath={.data.a}-{.data.b}"]))).toBe("1-2");
    expect(await k.ok(n(["get", "configmaps", "-l", "group=sorted", "-o", "jsonpath={range .items[*]}{.metadata.name}={.data.val};{end}"])))
      .toBe("sort-a=a;sort-b=b;sort-c=c;");
    const rows = tableRows(await k.ok(n(["get", "configmap", "cm1", "-o", "custom-columns=NAME:.metadata.name,A:.data.a,NS:.metadata.namespace"])));
    expect(rows).toEqual([["NAME", "A", "NS"], ["cm1", "1", NS]]);
  });

  it("-A adds the NAMESPACE column", async () => {
    const rows = tableRows(await k.ok(["get", "configmaps", "-A"]));
    expect(rows[0]).toEqual(["NAMESPACE", "NAME", "DATA", "AGE"]);
    expect(rows.some((r) => r[0] === NS && r[1] === "cm1" && r[2] === "2")).toBe(true);
    const ns = tableRows(await k.ok(["get", "namespaces"]));
    expect(ns.map((r) => r[0])).toEqual(expect.arrayContaining(["default", "kube-system", NS]));
  });

  it("-l and --field-selector filter", async () => {
    // sort-c has idx 0, sort-a idx 1, sort-b idx 2
    const byLabel = tableRows(await k.ok(n(["get", "cm", "-l", "group=sorted,idx!=1"])));
    expect(byLabel.slice(1).map((r) => r[0])).toEqual(["sort-b", "sort-c"]);
    const setBased = tableRows(await k.ok(n(["get", "cm", "-l", "idx in (0,2),group,!missing"])));
    expect(setBased.slice(1).map((r) => r[0])).toEqual(["sort-b", "sort-c"]);
    const byField = tableRows(await k.ok(n(["get", "cm", "--field-selector", "metadata.name=sort-b"])));
    expect(byField.slice(1).map((r) => r[0])).toEqual(["sort-b"]);
    const none = await k.run(n(["get", "cm", "-l", "group=none"]));
    expect(none.code).toBe(0);
    expect(none.stderr).toBe(`No resources found in ${NS} namespace.\n`);
  });

  it("--show-labels and --sort-by", async () => {
    const rows = tableRows(await k.ok(n(["get", "cm", "sort-a", "--show-labels"])));
    expect(rows[0]).toEqual(["NAME", "DATA", "AGE", "LABELS"]);
    expect(rows[1]?.[3]).toBe("group=sorted,idx=1");
    const sorted = tableRows(await k.ok(n(["get", "cm", "-l", "group=sorted", "--sort-by", ".metadata.labels.idx"])));
    expect(sorted.slice(1).map((r) => r[0])).toEqual(["sort-c", "sort-a", "sort-b"]);
    const byName = tableRows(await k.ok(n(["get", "cm", "-l", "group=sorted", "--sort-by", "{.data.val}"])));
    expect(byName.slice(1).map((r) => r[0])).toEqual(["sort-a", "sort-b", "sort-c"]);
  });

  it("--chunk-size pages through the whole list", async () => {
    const rows = tableRows(await k.ok(n(["get", "cm", "--chunk-size=1"])));
    expect(rows[0]).toEqual(["NAME", "DATA", "AGE"]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(["cm1", "sort-a", "sort-b", "sort-c"]);
    const names = await k.ok(n(["get", "cm", "--chunk-size=2", "-o", "name"]));
    expect(names).toBe("configmap/cm1\nconfigmap/sort-a\nconfigmap/sort-b\nconfigmap/sort-c\n");
  });

  it("get --raw", async () => {
    const list = parseJson(await k.ok(["get", "--raw", "/api/v1/namespaces"]));
    expect(list["kind"]).toBe("NamespaceList");
    expect(list["apiVersion"]).toBe("v1");
    const items = list["items"] as Array<{ metadata: { name: string } }>;
    expect(items.map((i) => i.metadata.name)).toEqual(expect.arrayContaining(["default", NS]));
    const one = parseJson(await k.ok(["get", "--raw", `/api/v1/namespaces/${NS}/configmaps/cm1`]));
    expect(one).toMatchObject({ kind: "ConfigMap", data: { a: "1" } });
  });
});

describe("kubectl 1.32: describe", () => {
  it("describes a configmap and a deployment", async () => {
    const cm = await k.ok(n(["describe", "configmap", "cm1"]));
    expect(cm).toMatch(/^Name:\s+cm1$/m);
    expect(cm).toMatch(new RegExp(`^Namespace:\\s+${NS}$`, "m"));
    // kubectl prints the data keys in Go map order (random): check each block
    expect(cm).toMatch(/^Data\n====\n/m);
    expect(cm).toMatch(/^a:\n----\n1\n/m);
    expect(cm).toMatch(/^b:\n----\n2\n/m);
    const dep = await k.ok(n(["describe", "deployment", "web"]));
    expect(dep).toMatch(/^Name:\s+web$/m);
    expect(dep).toMatch(/^Selector:\s+app=web$/m);
    expect(dep).toMatch(/^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    expect(dep).toMatch(/^StrategyType:\s+RollingUpdate$/m);
    expect(dep).toMatch(/^\s+Image:\s+nginx:1.27$/m);
  });
});

describe("kubectl 1.32: label, annotate, patch, replace", () => {
  it("label and annotate", async () => {
    expect(await k.ok(n(["label", "configmap", "cm1", "tier=gold"]))).toBe("configmap/cm1 labeled\n");
    expect(await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.metadata.labels.tier}"]))).toBe("gold");
    expect(await k.fails(n(["label", "configmap", "cm1", "tier=silver"])))
      .toBe("error: 'tier' already has a value (gold), and --overwrite is false");
    expect(await k.ok(n(["label", "configmap", "cm1", "tier=silver", "--overwrite"]))).toBe("configmap/cm1 labeled\n");
    expect(await k.ok(n(["label", "configmap", "cm1", "tier-"]))).toBe("configmap/cm1 unlabeled\n");
    expect(await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.metadata.labels}"]))).toBe("");
    expect(await k.ok(n(["annotate", "configmap", "cm1", "note=hello world"]))).toBe("configmap/cm1 annotated\n");
    expect(await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.metadata.annotations.note}"]))).toBe("hello world");
  });

  it("patch --type merge and --type json", async () => {
    const before = await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.metadata.resourceVersion}"]));
    expect(await k.ok(n(["patch", "configmap", "cm1", "--type", "merge", "-p", '{"data":{"c":"3","b":null}}']))).toBe("configmap/cm1 patched\n");
    expect(parseJson(await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.data}"])))).toEqual({ a: "1", c: "3" });
    const after = await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.metadata.resourceVersion}"]));
    expect(Number(after)).toBeGreaterThan(Number(before));
    expect(await k.ok(n(["patch", "configmap", "cm1", "--type", "json", "-p", '[{"op":"replace","path":"/data/a","value":"10"},{"op":"add","path":"/data/d","value":"4"}]'])))
      .toBe("configmap/cm1 patched\n");
    expect(parseJson(await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.data}"])))).toEqual({ a: "10", c: "3", d: "4" });
    // a patch that changes nothing: no new resourceVersion, kubectl says so
    expect(await k.ok(n(["patch", "configmap", "cm1", "--type", "merge", "-p", '{"data":{"a":"10"}}']))).toBe("configmap/cm1 patched (no change)\n");
    // deployments: spec change bumps generation
    expect(await k.ok(n(["patch", "deployment", "web", "--type", "merge", "-p", '{"spec":{"replicas":3}}']))).toBe("deployment.apps/web patched\n");
    expect(await k.ok(n(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.generation}"]))).toBe("3 2");
  });

  it("patch errors are reported", async () => {
    // a failed JSON-patch `test` is a 422 without causes: kubectl prints "The request is invalid"
    const bad = await k.fails(n(["patch", "configmap", "cm1", "--type", "json", "-p", '[{"op":"test","path":"/data/a","value":"nope"}]']));
    expect(bad).toBe("The request is invalid: testing value /data/a failed: test failed");
    const notFound = await k.fails(n(["patch", "configmap", "nope", "--type", "merge", "-p", '{"data":{"x":"1"}}']));
    expect(notFound).toBe('Error from server (NotFound): configmaps "nope" not found');
  });

  it("replace, and replace with a stale resourceVersion is a Conflict", async () => {
    const obj = parseJson(await k.ok(n(["get", "configmap", "cm1", "-o", "json"])));
    const stale = JSON.stringify({ ...obj, data: { replaced: "yes" } });
    expect(await k.ok(n(["replace", "-f", "-"]), { input: stale })).toBe("configmap/cm1 replaced\n");
    expect(parseJson(await k.ok(n(["get", "cm", "cm1", "-o", "jsonpath={.data}"])))).toEqual({ replaced: "yes" });
    const err = await k.fails(n(["replace", "-f", "-"]), { input: JSON.stringify({ ...obj, data: { again: "1" } }) });
    expect(err).toBe(
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "cm1": ' +
        "the object has been modified; please apply your changes to the latest version and try again",
    );
  });
});

describe("kubectl 1.32: watch", () => {
  it("get -w prints live events", async () => {
    const w = k.background(n(["get", "configmaps", "-w"]));
    try {
      await w.waitFor(/^NAME\s+DATA\s+AGE\n(.*\n)*sort-c\s+1\s+\S+\n/m);
      await k.ok(n(["create", "configmap", "watched", "--from-literal=x=1"]));
      await w.waitFor(/^watched\s+1\s+\S+$/m);
      await k.ok(n(["patch", "configmap", "watched", "--type", "merge", "-p", '{"data":{"y":"2"}}']));
      await w.waitFor(/^watched\s+2\s+\S+$/m);
    } finally {
      await w.stop();
    }
    const e = k.background(n(["get", "configmaps", "-w", "--output-watch-events", "--watch-only"]));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await k.ok(n(["delete", "configmap", "watched"]));
      await e.waitFor(/^DELETED\s+watched\s+2\s+\S+$/m);
    } finally {
      await e.stop();
    }
  });
});

describe("kubectl 1.32: discovery and version", () => {
  it("api-resources", async () => {
    const rows = tableRows(await k.ok(["api-resources"]));
    expect(rows[0]).toEqual(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]);
    const find = (name: string): string[] | undefined => rows.find((r) => r[0] === name);
    expect(find("pods")).toEqual(["pods", "po", "v1", "true", "Pod"]);
    expect(find("deployments")).toEqual(["deployments", "deploy", "apps/v1", "true", "Deployment"]);
    expect(find("namespaces")).toEqual(["namespaces", "ns", "v1", "false", "Namespace"]);
    expect(find("configmaps")).toEqual(["configmaps", "cm", "v1", "true", "ConfigMap"]);
    expect(find("cronjobs")).toEqual(["cronjobs", "cj", "batch/v1", "true", "CronJob"]);
    expect(find("clusterroles")).toEqual(["clusterroles", "rbac.authorization.k8s.io/v1", "false", "ClusterRole"]);
    const namespaced = tableRows(await k.ok(["api-resources", "--namespaced=false", "-o", "name"]));
    expect(namespaced.map((r) => r[0])).toEqual(expect.arrayContaining(["namespaces", "nodes", "persistentvolumes"]));
    expect(namespaced.map((r) => r[0])).not.toContain("pods");
  });

  it("api-versions", async () => {
    const v = (await k.ok(["api-versions"])).trim().split("\n");
    expect(v).toEqual(expect.arrayContaining([
      "v1", "apps/v1", "batch/v1", "autoscaling/v2", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
      "networking.k8s.io/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "events.k8s.io/v1",
    ]));
    expect([...v].sort()).toEqual(v);
  });

  it("version", async () => {
    const text = await k.ok(["version"]);
    expect(text).toMatch(/^Client Version: v1\.32\.\d+$/m);
    expect(text).toMatch(/^Server Version: v1\.(3[2-9])\.\d+/m);
    const j = parseJson(await k.ok(["version", "-o", "json"]));
    expect(j["serverVersion"]).toMatchObject({ major: "1", platform: expect.stringMatching(/\//) as unknown });
  });
});

describe("kubectl 1.32: bad input", () => {
  it("invalid names give the exact `is invalid:` message", async () => {
    const subdomain = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
      "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    // typed `create configmap` wraps the server's message; `create -f` prints the Status as upstream does
    expect(await k.fails(n(["create", "configmap", "Bad_Name"]))).toBe(
      `error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${subdomain}`,
    );
    expect(await k.fails(n(["create", "-f", "-"]), { input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n" })).toBe(
      `The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${subdomain}`,
    );
    expect(await k.fails(["create", "namespace", "Bad.NS"])).toBe(
      'The Namespace "Bad.NS" is invalid: metadata.name: Invalid value: "Bad.NS": a lowercase RFC 1123 label must consist of ' +
        "lower case alphanumeric characters or '-', and must start and end with an alphanumeric character " +
        "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  });

  it("invalid fields give the exact `is invalid:` message", async () => {
    expect(await k.fails(n(["create", "deployment", "neg", "--image=nginx", "--replicas=-1"]))).toBe(
      'error: failed to create deployment: Deployment.apps "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: neg2}
spec:
  replicas: -1
  selector: {matchLabels: {app: neg2}}
  template:
    metadata: {labels: {app: neg2}}
    spec: {containers: [{name: c, image: nginx}]}
`;
    expect(await k.fails(n(["create", "-f", "-"]), { input: manifest })).toBe(
      'The Deployment "neg2" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
  });

  it("not found and already exists", async () => {
    expect(await k.fails(n(["get", "configmap", "nope"]))).toBe('Error from server (NotFound): configmaps "nope" not found');
    expect(await k.fails(n(["get", "deployment", "nope"]))).toBe('Error from server (NotFound): deployments.apps "nope" not found');
    expect(await k.fails(n(["delete", "secret", "nope"]))).toBe('Error from server (NotFound): secrets "nope" not found');
    expect(await k.fails(["get", "namespace", "nope"])).toBe('Error from server (NotFound): namespaces "nope" not found');
    const again = await k.fails(n(["create", "-f", "-"]), { input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\n" });
    expect(again).toBe('Error from server (AlreadyExists): error when creating "STDIN": configmaps "cm1" already exists');
    expect(await k.fails(["get", "nosuchkind"])).toBe('error: the server doesn\'t have a resource type "nosuchkind"');
  });
});

describe("kubectl 1.32: delete", () => {
  it("deletes by name, by label and --all", async () => {
    expect(await k.ok(n(["delete", "configmap", "cm1"]))).toBe('configmap "cm1" deleted\n');
    expect(await k.fails(n(["get", "configmap", "cm1"]))).toBe('Error from server (NotFound): configmaps "cm1" not found');
    expect(await k.ok(n(["delete", "configmap", "-l", "idx in (0,1)"]))).toBe('configmap "sort-a" deleted\nconfigmap "sort-c" deleted\n');
    expect(await k.ok(n(["get", "cm", "-o", "name"]))).toBe("configmap/sort-b\n");
    expect(await k.ok(n(["delete", "configmap", "--all"]))).toBe('configmap "sort-b" deleted\n');
    const empty = await k.run(n(["get", "cm"]));
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toBe(`No resources found in ${NS} namespace.\n`);
    expect(await k.ok(n(["delete", "deployment", "web"]))).toBe('deployment.apps "web" deleted\n');
    expect(await k.ok(n(["delete", "service", "web"]))).toBe('service "web" deleted\n');
    expect(await k.ok(n(["delete", "secret", "s1"]))).toBe('secret "s1" deleted\n');
  });
});
