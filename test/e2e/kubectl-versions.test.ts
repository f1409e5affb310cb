/**
 * Acceptance on kubectl 1.30 (JSON bodies, AGG discovery) and 1.33 (protobuf bodies): a
 * representative subset of the 1.32 list in kubectl.test.ts, against one shared server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, startTug, tableRows, type TugProcess } from "./harness.ts";

let tug: TugProcess;

beforeAll(async () => {
  tug = await startTug({ apiOnly: true }); // the API's own behaviour, no controllers
});

afterAll(async () => {
  await tug?.stop();
});

describe.each(["1.30", "1.33"] as const)("kubectl %s", (version) => {
  const NS = `v${version.replace(".", "")}`;
  let k: Kubectl;
  const n = (args: string[]): string[] => ["-n", NS, ...args];

  beforeAll(() => {
    k = new Kubectl(version, tug.kubeconfig);
  });
  afterAll(() => k.cleanup());

  it("version reports both sides", async () => {
    const text = await k.ok(["version"]);
    expect(text).toMatch(new RegExp(`^Client Version: v${version.replace(".", "\\.")}\\.\\d+$`, "m"));
    expect(text).toMatch(/^Server Version: v1\.\d+\.\d+/m);
  });

  it("creates a namespace, configmap and deployment", async () => {
    expect(await k.ok(["create", "namespace", NS])).toBe(`namespace/${NS} created\n`);
    expect(await k.ok(n(["create", "configmap", "cfg", "--from-literal=k=v"]))).toBe("configmap/cfg created\n");
    expect(await k.ok(n(["create", "deployment", "app", "--image=busybox:1.36"]))).toBe("deployment.apps/app created\n");
    expect(await k.ok(n(["create", "secret", "generic", "sec", "--from-literal=x=y"]))).toBe("secret/sec created\n");
  });

  it("sends the expected body encoding (1.30 JSON, 1.33 protobuf) and the server accepts it", async () => {
    const r = await k.run(n(["create", "configmap", "wire", "--from-literal=a=b", "-v=8"]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("configmap/wire created\n");
    const sent = version === "1.30" ? "application/json" : "application/vnd.kubernetes.protobuf";
    expect(r.stderr).toMatch(new RegExp(`Content-Type: ${sent.replace(/\./g, "\\.")}`));
    expect(await k.ok(n(["get", "cm", "wire", "-o", "jsonpath={.data.a}"]))).toBe("b");
    await k.ok(n(["delete", "cm", "wire"]));
  });

  it("gets tables, wide, json, jsonpath", async () => {
    const rows = tableRows(await k.ok(n(["get", "deploy", "-o", "wide"])));
    expect(rows[0]).toEqual(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    expect(rows[1]?.slice(0, 4)).toEqual(["app", "0/1", "0", "0"]);
    expect(rows[1]?.slice(5)).toEqual(["busybox", "busybox:1.36", "app=app"]);
    expect(await k.ok(n(["get", "cm", "cfg", "-o", "jsonpath={.data.k}"]))).toBe("v");
    const all = tableRows(await k.ok(["get", "cm", "-A", "--chunk-size=1"]));
    expect(all[0]).toEqual(["NAMESPACE", "NAME", "DATA", "AGE"]);
    expect(all.some((r) => r[0] === NS && r[1] === "cfg")).toBe(true);
    expect(await k.ok(n(["get", "cm", "--field-selector", "metadata.name=cfg", "-o", "name"]))).toBe("configmap/cfg\n");
  });

  it("label, patch, describe", async () => {
    expect(await k.ok(n(["label", "cm", "cfg", "role=x"]))).toBe("configmap/cfg labeled\n");
    expect(await k.ok(n(["get", "cm", "-l", "role=x", "-o", "name"]))).toBe("configmap/cfg\n");
    expect(await k.ok(n(["patch", "cm", "cfg", "--type", "merge", "-p", '{"data":{"k":"w"}}']))).toBe("configmap/cfg patched\n");
    expect(await k.ok(n(["describe", "cm", "cfg"]))).toMatch(/^Data\n====\nk:\n----\nw\n/m);
  });

  it("get -w sees a change", async () => {
    const w = k.background(n(["get", "cm", "-w"]));
    try {
      await w.waitFor(/^cfg\s+1\s+\S+$/m);
      await k.ok(n(["create", "configmap", "live", "--from-literal=a=b"]));
      await w.waitFor(/^live\s+1\s+\S+$/m);
    } finally {
      await w.stop();
    }
  });

  it("errors: invalid, not found, conflict", async () => {
    expect(await k.fails(n(["create", "configmap", "UPPER"]))).toMatch(
      /^error: failed to create configmap: ConfigMap "UPPER" is invalid: metadata\.name: Invalid value: "UPPER": a lowercase RFC 1123 subdomain must consist of/,
    );
    expect(await k.fails(n(["get", "cm", "missing"]))).toBe('Error from server (NotFound): configmaps "missing" not found');
    const stale = JSON.parse(await k.ok(n(["get", "cm", "cfg", "-o", "json"]))) as Record<string, unknown>;
    await k.ok(n(["annotate", "cm", "cfg", "bump=1"]));
    expect(await k.fails(n(["replace", "-f", "-"]), { input: JSON.stringify(stale) })).toMatch(
      /^Error from server \(Conflict\): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "cfg": the object has been modified/,
    );
  });

  it("api-resources and delete --all", async () => {
    const rows = tableRows(await k.ok(["api-resources"]));
    expect(rows.find((r) => r[0] === "deployments")).toEqual(["deployments", "deploy", "apps/v1", "true", "Deployment"]);
    const out = await k.ok(n(["delete", "cm", "--all"]));
    expect(out).toBe('configmap "cfg" deleted\nconfigmap "live" deleted\n');
    expect(await k.ok(n(["get", "cm", "-o", "name"]))).toBe("");
  });
});
