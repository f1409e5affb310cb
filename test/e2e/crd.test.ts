/**
 * CustomResourceDefinitions with the real kubectl against `tug server`: a CronTab CRD (short name,
 * printer columns, status and scale subresources) applied, its objects created, listed, watched,
 * patched, applied server-side, validated (422 naming the field), explained and listed in
 * api-resources; a non-structural CRD rejected with the reason; the CRD deleted with its objects.
 * kubectl 1.32 runs everything; 1.29 and 1.33 a subset.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kubectl, startTug, tableRows, type KubectlVersion, type TugProcess } from "./harness.ts";

let tug: TugProcess;

beforeAll(async () => {
  tug = await startTug({ apiOnly: true });
});

afterAll(async () => {
  await tug?.stop();
});

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: The desired schedule.
            required: [cronSpec]
            properties:
              cronSpec:
                type: string
                description: A cron expression.
              image:
                type: string
              replicas:
                type: integer
                minimum: 1
                maximum: 10
                default: 1
          status:
            type: object
            properties:
              replicas: {type: integer}
              labelSelector: {type: string}
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
`;

const cronTab = (name: string, cronSpec: string, extra = ""): string => `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: ${name}
spec:
  cronSpec: "${cronSpec}"
  image: my-awesome-cron-image
${extra}`;

const NON_STRUCTURAL = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.org
spec:
  group: example.org
  scope: Cluster
  names: {plural: widgets, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            properties:
              size: {type: integer}
`;

async function eventually<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("kubectl 1.32: CustomResourceDefinitions", () => {
  let k: Kubectl;
  beforeAll(() => {
    k = new Kubectl("1.32", tug.kubeconfig);
  });
  afterAll(() => k.cleanup());

  it("rejects a non-structural schema with the reason", async () => {
    const err = await k.fails(["apply", "-f", "-"], { input: NON_STRUCTURAL });
    expect(err).toContain("spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields");
  });

  it("registers a CronTab CRD and serves its objects", async () => {
    expect(await k.ok(["apply", "-f", "-"], { input: CRD })).toContain("customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created");
    await eventually(() => k.ok(["wait", "--for=condition=Established", "crd/crontabs.stable.example.com", "--timeout=5s"]));
    const crds = tableRows(await k.ok(["get", "crd"]));
    expect(crds[0]).toEqual(["NAME", "CREATED AT"]);
    expect(crds[1]?.[0]).toBe("crontabs.stable.example.com");

    const res = await eventually(async () => {
      const out = await k.ok(["api-resources", "--api-group=stable.example.com"]);
      if (!out.includes("crontabs")) throw new Error(out);
      return out;
    });
    expect(tableRows(res)[1]).toEqual(["crontabs", "ct", "stable.example.com/v1", "true", "CronTab"]);

    expect(await k.ok(["apply", "-f", "-"], { input: cronTab("my-cron", "* * * * */5") })).toContain("crontab.stable.example.com/my-cron created");
    const rows = tableRows(await k.ok(["get", "crontabs"]));
    expect(rows[0]).toEqual(["NAME", "SPEC", "REPLICAS", "AGE"]);
    expect(rows[1]?.slice(0, 3)).toEqual(["my-cron", "* * * * */5", "1"]);
    expect(tableRows(await k.ok(["get", "ct", "my-cron"]))[1]?.[0]).toBe("my-cron");

    const json = JSON.parse(await k.ok(["get", "crontab", "my-cron", "-o", "json"])) as { spec: Record<string, unknown>; metadata: { generation: number } };
    expect(json.spec).toEqual({ cronSpec: "* * * * */5", image: "my-awesome-cron-image", replicas: 1 });

    // client-side apply update (merge patch for custom resources), patch, scale
    await k.ok(["apply", "-f", "-"], { input: cronTab("my-cron", "*/10 * * * *") });
    await k.ok(["patch", "crontab", "my-cron", "--type=merge", "-p", `{"spec":{"replicas":3}}`]);
    expect(await k.ok(["get", "ct", "my-cron", "-o", "jsonpath={.spec.cronSpec} {.spec.replicas}"])).toBe("*/10 * * * * 3");
    await k.ok(["scale", "crontab", "my-cron", "--replicas=5"]);
    expect(await k.ok(["get", "ct", "my-cron", "-o", "jsonpath={.spec.replicas}"])).toBe("5");
    await k.ok(["patch", "crontab", "my-cron", "--subresource=status", "--type=merge", "-p", `{"status":{"replicas":5}}`]);
    expect(await k.ok(["get", "ct", "my-cron", "-o", "jsonpath={.status.replicas}"])).toBe("5");

    // server-side apply
    const ssa = await k.ok(["apply", "--server-side", "--field-manager=ops", "-f", "-"], { input: cronTab("ssa-cron", "0 * * * *") });
    expect(ssa).toContain("crontab.stable.example.com/ssa-cron serverside-applied");
    const conflict = await k.fails(["apply", "--server-side", "--field-manager=other", "-f", "-"], { input: cronTab("ssa-cron", "1 * * * *") });
    expect(conflict).toContain(".spec.cronSpec");
    await k.ok(["apply", "--server-side", "--force-conflicts", "--field-manager=other", "-f", "-"], { input: cronTab("ssa-cron", "1 * * * *") });
    expect(await k.ok(["get", "ct", "ssa-cron", "-o", "jsonpath={.spec.cronSpec}"])).toBe("1 * * * *");
  });

  it("rejects invalid objects naming the field, and unknown fields under Strict", async () => {
    const err = await k.fails(["apply", "-f", "-"], { input: cronTab("bad-cron", "* * * * *", "  replicas: 50\n") });
    expect(err).toContain(`The CronTab "bad-cron" is invalid`);
    expect(err).toContain("spec.replicas: Invalid value: 50: spec.replicas in body should be less than or equal to 10");
    const unknown = await k.fails(["apply", "-f", "-"], { input: cronTab("bad-cron", "* * * * *", "  colour: red\n") });
    expect(unknown).toContain(`unknown field "spec.colour"`);
  });

  it("explains the custom resource", async () => {
    const out = await k.ok(["explain", "crontab.spec"]);
    expect(out).toContain("KIND:       CronTab");
    expect(out).toContain("cronSpec");
    expect(out).toContain("A cron expression.");
  });

  it("watches custom resources", async () => {
    const w = k.background(["get", "crontabs", "--watch", "--output-watch-events"]);
    try {
      await w.waitFor(/ADDED\s+my-cron/);
      await k.ok(["apply", "-f", "-"], { input: cronTab("watched-cron", "5 * * * *") });
      await w.waitFor(/ADDED\s+watched-cron/);
    } finally {
      await w.stop();
    }
  });

  it("deleting the CRD deletes its objects and stops serving", async () => {
    await k.ok(["delete", "crd", "crontabs.stable.example.com", "--timeout=20s"]);
    // A fresh discovery cache, as after kubectl's cache expiry (a cached kubectl gets the list's 404).
    const fresh = new Kubectl("1.32", tug.kubeconfig);
    const err = await eventually(async () => {
      const e = await fresh.fails(["get", "crontabs"]);
      if (!e.includes("the server doesn't have a resource type")) throw new Error(e);
      return e;
    });
    expect(err).toContain(`the server doesn't have a resource type "crontabs"`);
    fresh.cleanup();
    // Re-created, the resource starts empty.
    await k.ok(["apply", "-f", "-"], { input: CRD });
    await eventually(() => k.ok(["wait", "--for=condition=Established", "crd/crontabs.stable.example.com", "--timeout=5s"]));
    const out = await eventually(async () => {
      const r = await k.run(["get", "crontabs", "-A"]);
      if (r.code !== 0) throw new Error(r.stderr);
      return r.stdout + r.stderr;
    });
    expect(out).toContain("No resources found");
    await k.ok(["delete", "crd", "crontabs.stable.example.com"]);
  });
});

// kubectl 1.29 is not in the harness's version list; the binary sits beside the others.
describe.each(["1.29" as KubectlVersion, "1.33" as const])("kubectl %s: CRD subset", (version) => {
  let k: Kubectl;
  beforeAll(() => {
    k = new Kubectl(version, tug.kubeconfig);
  });
  afterAll(() => k.cleanup());

  it("applies a CRD, creates and lists objects, deletes the CRD", async () => {
    const crd = CRD.replaceAll("crontabs", "crontabz").replaceAll("CronTab", "CronTabZ").replaceAll("crontab\n", "crontabz\n")
      .replace("shortNames: [ct]", `shortNames: [ct${version.replace(".", "")}]`).replaceAll("stable.example.com", `v${version.replace(".", "")}.example.com`);
    const group = `v${version.replace(".", "")}.example.com`;
    await k.ok(["apply", "-f", "-"], { input: crd });
    await eventually(() => k.ok(["wait", "--for=condition=Established", `crd/crontabz.${group}`, "--timeout=5s"]));
    const obj = cronTab("x", "* * * * *").replace("stable.example.com/v1", `${group}/v1`).replace("kind: CronTab", "kind: CronTabZ");
    await eventually(() => k.ok(["apply", "-f", "-"], { input: obj }));
    const rows = tableRows(await k.ok(["get", `crontabz.${group}`]));
    expect(rows[0]).toEqual(["NAME", "SPEC", "REPLICAS", "AGE"]);
    expect(rows[1]?.[0]).toBe("x");
    const err = await k.fails(["apply", "-f", "-"], { input: obj.replace("image: my-awesome-cron-image", "image: 5\n  replicas: 0") });
    expect(err).toContain("spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1");
    await k.ok(["delete", "crd", `crontabz.${group}`]);
    await eventually(async () => {
      const e = await k.fails(["get", `crontabz.${group}`]);
      // Depending on the discovery cache: the list's 404, or (refreshed) upstream's unknown-type error.
      if (!/the server could not find the requested resource|the server doesn't have a resource type/.test(e)) throw new Error(e);
    });
  });
});
