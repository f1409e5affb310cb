/**
 * Declarative management (issue 6), the acceptance items test/e2e/apply.test.ts does not cover,
 * with the real kubectl against a live `tug server` (API only, so nothing else writes):
 * `apply --prune` (label selector, `--all`, `--prune-allowlist`), `apply -k` (namePrefix,
 * commonLabels, configMapGenerator), `explain` (OpenAPI v3 and `--output=plaintext-openapiv2`),
 * `patch` with json/merge/strategic patches and every SMP directive on a Deployment (including the
 * `$retainKeys` kubectl sends when the strategy type flips), bad input (unknown fields under
 * Strict, malformed SMP directives) and `diff --server-side`. kubectl 1.32 runs everything; 1.29
 * and 1.33 a subset.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Kubectl, startTug, tempDir, type KubectlVersion, type TugProcess } from "./harness.ts";

let tug: TugProcess;

beforeAll(async () => {
  tug = await startTug({ apiOnly: true });
});

afterAll(async () => {
  await tug?.stop();
});

/** Writes `files` into a fresh directory and returns its path. */
function writeDir(prefix: string, files: Readonly<Record<string, string>>): string {
  const dir = tempDir(prefix);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Output lines, sorted (kubectl prints apply results in an order of its own). */
const lines = (out: string): string[] => out.split("\n").filter((l) => l !== "").sort();

// ---------------------------------------------------------------- manifests

const DEMO_DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: demo}}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: main, image: "nginx:1.27"}]}
`;
const DEMO_SVC = `apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: demo}}
spec: {selector: {app: demo}, ports: [{port: 80}]}
`;
const DEMO_CM = `apiVersion: v1
kind: ConfigMap
metadata: {name: web-cfg, labels: {app: demo}}
data: {k: v}
`;
const strayCm = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: b}\n`;

const KUSTOMIZATION = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: dev-
commonLabels:
  team: blue
resources:
- deploy.yaml
- svc.yaml
configMapGenerator:
- name: settings
  literals:
  - MODE=fast
  - LEVEL=3
`;
const KUST_DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: main
        image: nginx:1.27
        envFrom:
        - configMapRef: {name: settings}
`;
const KUST_SVC = `apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
`;

interface StrategyOpts {
  readonly recreate?: boolean;
  readonly replicas?: number;
  readonly image?: string;
  readonly extra?: string;
}

/** A Deployment with a RollingUpdate (explicit maxSurge/maxUnavailable) or Recreate strategy. */
const deployment = (name: string, o: StrategyOpts = {}): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${o.replicas ?? 1}
${o.extra ?? ""}  strategy:
${o.recreate === true ? "    type: Recreate\n" : "    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n"}  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: main
        image: ${o.image ?? "nginx:1.27"}
        args: [a, b, c]
`;

interface Deploy {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; generation?: number; resourceVersion: string };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    strategy: { type: string; rollingUpdate?: Record<string, unknown> };
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        containers: { name: string; image: string; args?: string[]; ports?: { containerPort: number }[]; envFrom?: unknown[] }[];
        volumes?: Record<string, unknown>[];
      };
    };
  };
}

// ---------------------------------------------------------------- shared scenarios

/** Per-version scenarios, each in its own namespace `<base><version digits>`. */
function scenarios(version: KubectlVersion, k: () => Kubectl): {
  prune(): Promise<void>;
  pruneAll(allowlist: boolean): Promise<void>;
  kustomize(): Promise<void>;
  explainStrategy(): Promise<void>;
  retainKeysFlip(): Promise<void>;
  diffServerSide(): Promise<void>;
  strictUnknown(): Promise<void>;
} {
  const v = version.replace(".", "");
  const ns = async (base: string): Promise<string> => {
    const name = `${base}${v}`;
    await k().ok(["create", "namespace", name]);
    return name;
  };
  const getDeploy = async (n: string, name: string): Promise<Deploy> =>
    parseYaml(await k().ok(["-n", n, "get", "deployment", name, "-o", "json"])) as Deploy; // kubectl's JSON of one Deployment
  const names = async (n: string, kind: string): Promise<string[]> =>
    (await k().ok(["-n", n, "get", kind, "-o", "name"])).split("\n").filter((l) => l !== "").sort();

  return {
    async prune() {
      const n = await ns("prune");
      // Unrelated objects: one created (no last-applied annotation), one applied without the label.
      await k().ok(["-n", n, "create", "configmap", "other", "--from-literal=x=1"]);
      await k().ok(["-n", n, "apply", "-f", "-"], { input: strayCm("applied-unlabelled") });
      const dir = writeDir(`prune${v}`, { "deploy.yaml": DEMO_DEPLOY, "svc.yaml": DEMO_SVC, "cm.yaml": DEMO_CM });
      expect(lines(await k().ok(["-n", n, "apply", "--prune", "-l", "app=demo", "-f", dir])))
        .toEqual(["configmap/web-cfg created", "deployment.apps/web created", "service/web created"]);
      rmSync(join(dir, "cm.yaml"));
      const r = await k().run(["-n", n, "apply", "--prune", "-l", "app=demo", "-f", dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(["configmap/web-cfg pruned", "deployment.apps/web unchanged", "service/web unchanged"]);
      expect(await names(n, "configmaps")).toEqual(["configmap/applied-unlabelled", "configmap/other"]);
      expect(await names(n, "deployments")).toEqual(["deployment.apps/web"]);
      expect(await names(n, "services")).toEqual(["service/web"]);
      // A third apply finds nothing more to prune.
      expect(lines(await k().ok(["-n", n, "apply", "--prune", "-l", "app=demo", "-f", dir])))
        .toEqual(["deployment.apps/web unchanged", "service/web unchanged"]);
    },

    async pruneAll(allowlist: boolean) {
      const n = await ns(allowlist ? "pruneallow" : "pruneall");
      await k().ok(["-n", n, "create", "configmap", "other", "--from-literal=x=1"]);
      await k().ok(["-n", n, "apply", "-f", "-"], { input: strayCm("stray") });
      const dir = writeDir(`pruneall${v}`, { "deploy.yaml": DEMO_DEPLOY, "svc.yaml": DEMO_SVC });
      const flags = ["--prune", "--all", ...(allowlist ? ["--prune-allowlist=core/v1/ConfigMap", "--prune-allowlist=apps/v1/Deployment"] : [])];
      const r = await k().run(["-n", n, "apply", ...flags, "-f", dir]);
      expect(r.code, r.stderr).toBe(0);
      // Applied objects of the namespace that are not in the directory go; `other` was never applied.
      expect(lines(r.stdout)).toEqual(["configmap/stray pruned", "deployment.apps/web created", "service/web created"]);
      expect(await names(n, "configmaps")).toEqual(["configmap/other"]);
      if (!allowlist) expect(r.stderr).toContain("--prune-allowlist"); // the deprecation notice for the default list
      expect(lines(await k().ok(["-n", n, "apply", ...flags, "-f", dir]))).toEqual(["deployment.apps/web unchanged", "service/web unchanged"]);
    },

    async kustomize() {
      const n = await ns("kust");
      const dir = writeDir(`kust${v}`, { "kustomization.yaml": KUSTOMIZATION, "deploy.yaml": KUST_DEPLOY, "svc.yaml": KUST_SVC });
      const first = lines(await k().ok(["-n", n, "apply", "-k", dir]));
      expect(first).toHaveLength(3);
      expect(first[0]).toMatch(/^configmap\/dev-settings-[a-z0-9]{10} created$/);
      expect(first.slice(1)).toEqual(["deployment.apps/dev-api created", "service/dev-api created"]);
      const cm = (first[0] ?? "").split(" ")[0]?.split("/")[1] ?? "";

      const d = await getDeploy(n, "dev-api");
      expect(d.metadata.labels).toEqual({ team: "blue" });
      expect(d.spec.selector.matchLabels).toEqual({ app: "api", team: "blue" });
      expect(d.spec.template.metadata.labels).toEqual({ app: "api", team: "blue" });
      expect(d.spec.template.spec.containers[0]?.envFrom).toEqual([{ configMapRef: { name: cm } }]);
      const data = parseYaml(await k().ok(["-n", n, "get", "configmap", cm, "-o", "json"])) as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
      expect(data.data).toEqual({ LEVEL: "3", MODE: "fast" });
      expect(data.metadata.labels).toEqual({ team: "blue" });
      expect(await k().ok(["-n", n, "get", "service", "dev-api", "-o", "jsonpath={.metadata.labels.team} {.spec.selector}"]))
        .toBe('blue {"app":"api","team":"blue"}');

      // Re-apply: nothing changes, nothing is written.
      const rv = d.metadata.resourceVersion;
      expect(lines(await k().ok(["-n", n, "apply", "-k", dir]))).toEqual([`configmap/${cm} unchanged`, "deployment.apps/dev-api unchanged", "service/dev-api unchanged"]);
      expect((await getDeploy(n, "dev-api")).metadata.resourceVersion).toBe(rv);
    },

    async explainStrategy() {
      const v3 = await k().ok(["explain", "deployment.spec.strategy"]);
      expect(v3).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
      expect(v3).toContain("FIELD: strategy <DeploymentStrategy>\n");
      expect(v3).toMatch(/^ {2}rollingUpdate\t<RollingUpdateDeployment>$/m);
      expect(v3).toMatch(/^ {2}type\t<string>$/m);
      const deeper = await k().ok(["explain", "deployment.spec.strategy.rollingUpdate"]);
      expect(deeper).toMatch(/^ {2}maxSurge\t<IntOrString>$/m);
      expect(deeper).toMatch(/^ {2}maxUnavailable\t<IntOrString>$/m);

      const v2 = await k().ok(["explain", "deployment.spec.strategy", "--output=plaintext-openapiv2"]);
      expect(v2).toMatch(/^KIND:\s+Deployment\nVERSION:\s+apps\/v1\n/);
      expect(v2).toContain("RESOURCE: strategy <Object>\n");
      expect(v2).toMatch(/^ {3}rollingUpdate\t<Object>$/m);
      expect(v2).toMatch(/^ {3}type\t<string>$/m);
    },

    async retainKeysFlip() {
      // kubectl's 3-way patch for a strategy change carries $retainKeys (DeploymentSpec.strategy
      // is patchStrategy=retainKeys): Recreate drops rollingUpdate, RollingUpdate brings it back.
      const n = await ns("retain");
      await k().ok(["-n", n, "apply", "-f", "-"], { input: deployment("rk") });
      const toRecreate = await k().run(["-n", n, "apply", "-f", "-", "-v=8"], { input: deployment("rk", { recreate: true }) });
      expect(toRecreate.code, toRecreate.stderr).toBe(0);
      expect(toRecreate.stdout).toBe("deployment.apps/rk configured\n");
      expect(toRecreate.stderr.replaceAll("\\", "")).toContain('"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}');
      expect((await getDeploy(n, "rk")).spec.strategy).toEqual({ type: "Recreate" });
      const back = await k().run(["-n", n, "apply", "-f", "-", "-v=8"], { input: deployment("rk") });
      expect(back.code, back.stderr).toBe(0);
      expect(back.stderr.replaceAll("\\", "")).toContain('"$retainKeys":["rollingUpdate","type"]');
      expect((await getDeploy(n, "rk")).spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
    },

    async diffServerSide() {
      const n = await ns("diff");
      await k().ok(["-n", n, "apply", "--server-side", "-f", "-"], { input: deployment("df", { recreate: true }) });
      const before = await getDeploy(n, "df");
      const changed = deployment("df", { recreate: true, replicas: 4, image: "nginx:1.28" });
      for (const mode of [["--server-side"], []]) {
        const r = await k().run(["-n", n, "diff", ...mode, "-f", "-"], { input: changed });
        expect(r.code, `${mode.join(" ")}: ${r.stderr}`).toBe(1);
        // Only the changed lines (generation follows the spec change, as on a real cluster).
        const changedLines = r.stdout.split("\n").filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
        expect(changedLines, mode.join(" ")).toEqual([
          "-  generation: 1", "+  generation: 2",
          "-  replicas: 1", "+  replicas: 4",
          "-        image: nginx:1.27", "+        image: nginx:1.28",
        ]);
      }
      const same = await k().run(["-n", n, "diff", "--server-side", "-f", "-"], { input: deployment("df", { recreate: true }) });
      expect(same.code, same.stderr).toBe(0);
      expect(same.stdout).toBe("");
      expect((await getDeploy(n, "df")).metadata.resourceVersion).toBe(before.metadata.resourceVersion); // dry run only
    },

    async strictUnknown() {
      const n = await ns("strict");
      const bad = deployment("bad", { extra: "  bogusField: 1\n" });
      // Client-side apply (create) and server-side apply both name the field.
      expect(await k().fails(["-n", n, "apply", "-f", "-"], { input: bad })).toContain('strict decoding error: unknown field "spec.bogusField"');
      expect(await k().fails(["-n", n, "apply", "--server-side", "-f", "-"], { input: bad }))
        .toContain(".spec.bogusField: field not declared in schema");
      // Client-side apply of an existing object: the 3-way patch is rejected naming the field.
      await k().ok(["-n", n, "apply", "-f", "-"], { input: deployment("bad") });
      expect(await k().fails(["-n", n, "apply", "-f", "-"], { input: bad })).toContain('strict decoding error: unknown field "spec.bogusField"');
      // Warn keeps going and prints the server's warning.
      const warn = await k().run(["-n", n, "apply", "--validate=warn", "-f", "-"], { input: bad });
      expect(warn.code, warn.stderr).toBe(0);
      expect(warn.stderr).toContain('Warning: unknown field "spec.bogusField"');
    },
  };
}

// ---------------------------------------------------------------- kubectl 1.32: everything

describe("kubectl 1.32: prune, kustomize, explain, patch, bad input, diff", () => {
  let k: Kubectl;
  const s = scenarios("1.32", () => k);

  beforeAll(() => {
    k = new Kubectl("1.32", tug.kubeconfig);
  });
  afterAll(() => k.cleanup());

  it("apply --prune -l deletes the object whose file was removed, keeps unrelated ones", () => s.prune());
  it("apply --prune --all (default allowlist, with its deprecation notice)", () => s.pruneAll(false));
  it("apply --prune --all --prune-allowlist", () => s.pruneAll(true));
  it("apply --prune --applyset (alpha, KUBECTL_APPLYSET=true): parent Secret, pruned by membership", async () => {
    await k.ok(["create", "namespace", "applyset"]);
    const dir = writeDir("applyset", { "deploy.yaml": DEMO_DEPLOY, "svc.yaml": DEMO_SVC, "cm.yaml": DEMO_CM });
    const prev = process.env["KUBECTL_APPLYSET"];
    process.env["KUBECTL_APPLYSET"] = "true"; // Kubectl.run copies process.env per call; tests here run one at a time
    try {
      const args = ["-n", "applyset", "apply", "--prune", "--applyset=myset", "-f", dir];
      expect(lines(await k.ok(args))).toEqual(["configmap/web-cfg created", "deployment.apps/web created", "service/web created"]);
      rmSync(join(dir, "cm.yaml"));
      expect(lines(await k.ok(args))).toEqual(["configmap/web-cfg pruned", "deployment.apps/web unchanged", "service/web unchanged"]);
    } finally {
      if (prev === undefined) delete process.env["KUBECTL_APPLYSET"];
      else process.env["KUBECTL_APPLYSET"] = prev;
    }
    const parent = parseYaml(await k.ok(["-n", "applyset", "get", "secret", "myset", "-o", "json"])) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    const id = parent.metadata.labels["applyset.kubernetes.io/id"] ?? "";
    expect(id).toMatch(/^applyset-[A-Za-z0-9_-]+-v1$/);
    expect(parent.metadata.annotations["applyset.kubernetes.io/contains-group-kinds"]).toBe("Deployment.apps,Service");
    expect(await k.ok(["-n", "applyset", "get", "deployment", "web", "-o", "jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/part-of}"])).toBe(id);
  });
  it("apply -k: namePrefix, commonLabels, configMapGenerator; re-apply unchanged", () => s.kustomize());
  it("explain deployment.spec.strategy (v3 and plaintext-openapiv2)", () => s.explainStrategy());

  it("explain pod.spec.containers --recursive (v3 and plaintext-openapiv2)", async () => {
    const v3 = await k.ok(["explain", "pod.spec.containers", "--recursive"]);
    expect(v3).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n/);
    expect(v3).toContain("FIELD: containers <[]Container>\n");
    for (const line of [
      "  args\t<[]string>",
      "  env\t<[]EnvVar>",
      "    name\t<string> -required-",
      "    valueFrom\t<EnvVarSource>",
      "      configMapKeyRef\t<ConfigMapKeySelector>",
      "        optional\t<boolean>",
      "  image\t<string>",
      "  livenessProbe\t<Probe>",
      "      port\t<IntOrString>",
      "  name\t<string> -required-",
      "  ports\t<[]ContainerPort>",
      "    containerPort\t<integer> -required-",
      "  resources\t<ResourceRequirements>",
      "    limits\t<map[string]Quantity>",
      "  securityContext\t<SecurityContext>",
      "    runAsUser\t<integer>",
      "  volumeMounts\t<[]VolumeMount>",
      "    mountPath\t<string> -required-",
      "  workingDir\t<string>",
    ]) expect(v3.split("\n"), line).toContain(line);
    // Top-level fields in name order, as kubectl sorts them.
    const top = v3.split("\n").filter((l) => /^ {2}\w/.test(l)).map((l) => l.trim().split("\t")[0] ?? "");
    expect(top).toEqual([...top].sort());
    expect(top).toEqual(expect.arrayContaining(["command", "envFrom", "imagePullPolicy", "lifecycle", "readinessProbe", "startupProbe", "stdin", "tty", "volumeDevices"]));

    const v2 = await k.ok(["explain", "pod.spec.containers", "--recursive", "--output=plaintext-openapiv2"]);
    expect(v2).toContain("RESOURCE: containers <[]Object>\n");
    for (const line of ["   env\t<[]Object>", "      name\t<string>", "   ports\t<[]Object>", "      containerPort\t<integer>", "   resources\t<Object>", "   image\t<string>"]) {
      expect(v2.split("\n"), line).toContain(line);
    }
    // Non-recursive v2 marks required fields.
    expect(await k.ok(["explain", "pod.spec.containers.env", "--output=plaintext-openapiv2"])).toMatch(/^ {3}name\t<string> -required-$/m);
  });

  describe("patch on a Deployment", () => {
    const NS = "patch132";
    const n = (args: string[]): string[] => ["-n", NS, ...args];
    const get = async (): Promise<Deploy> => parseYaml(await k.ok(n(["get", "deployment", "pt", "-o", "json"]))) as Deploy; // kubectl's JSON
    const patch = (type: string, p: string): Promise<string> => k.ok(n(["patch", "deployment", "pt", "--type", type, "-p", p]));

    beforeAll(async () => {
      await k.ok(["create", "namespace", NS]);
      await k.ok(n(["create", "-f", "-"]), {
        input: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: pt
  labels: {app: pt, tier: web}
  annotations: {a: "1", b: "2"}
  finalizers: [example.com/a, example.com/b, example.com/c]
spec:
  replicas: 1
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}
  selector: {matchLabels: {app: pt}}
  template:
    metadata: {labels: {app: pt}, annotations: {x: "1"}}
    spec:
      volumes:
      - name: v
        emptyDir: {}
      containers:
      - name: a
        image: nginx:1.27
        ports: [{containerPort: 80, name: http}, {containerPort: 443}]
      - name: b
        image: busybox:1.36
`,
      });
    });

    it("json patch (RFC 6902): replace, add, remove, test", async () => {
      expect(await patch("json", '[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":3},' +
        '{"op":"add","path":"/metadata/labels/extra","value":"x"},{"op":"remove","path":"/metadata/annotations/b"}]')).toBe("deployment.apps/pt patched\n");
      const o = await get();
      expect(o.spec.replicas).toBe(3);
      expect(o.metadata.labels).toEqual({ app: "pt", tier: "web", extra: "x" });
      expect(o.metadata.annotations).toEqual({ a: "1" });
      const failed = await k.fails(n(["patch", "deployment", "pt", "--type", "json", "-p", '[{"op":"test","path":"/spec/replicas","value":7}]']));
      expect(failed).toContain("The request is invalid: testing value /spec/replicas failed");
      expect(await k.fails(n(["patch", "deployment", "pt", "--type", "json", "-p", '[{"op":"frob","path":"/spec"}]'])))
        .toBe("The request is invalid: Unexpected kind: frob");
      expect(await k.fails(n(["patch", "deployment", "pt", "--type", "json", "-p", '{"op":"add"}'])))
        .toBe("Error from server (BadRequest): json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    });

    it("merge patch (RFC 7386): null deletes, lists replaced whole", async () => {
      expect(await patch("merge", '{"metadata":{"annotations":{"a":null,"c":"3"}},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"nginx:1.28"}]}}}}'))
        .toBe("deployment.apps/pt patched\n");
      const o = await get();
      expect(o.metadata.annotations).toEqual({ c: "3" });
      expect(o.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(["a=nginx:1.28"]);
      // Put the two containers back for the strategic cases.
      await patch("merge", '{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"nginx:1.27","ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]},{"name":"b","image":"busybox:1.36"}]}}}}');
    });

    it("strategic: merge by key, $patch: delete on a list item, $patch: replace on a map", async () => {
      await patch("strategic", '{"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":8080},{"containerPort":80,"$patch":"delete"}]}]}}}}');
      let o = await get();
      expect(o.spec.template.spec.containers.map((c) => c.name)).toEqual(["a", "b"]);
      expect(o.spec.template.spec.containers[0]?.ports?.map((p) => p.containerPort)).toEqual([8080, 443]);
      await patch("strategic", '{"metadata":{"labels":{"$patch":"replace","app":"pt","new":"y"}}}');
      o = await get();
      expect(o.metadata.labels).toEqual({ app: "pt", new: "y" });
      await patch("strategic", '{"spec":{"template":{"metadata":{"annotations":{"$patch":"delete"}}}}}');
      o = await get();
      expect(o.spec.template.metadata.annotations).toBeUndefined();
      expect(o.spec.template.metadata.labels).toEqual({ app: "pt" });
    });

    it("strategic: $retainKeys switches the strategy type both ways and on a volume source", async () => {
      await patch("strategic", '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}');
      expect((await get()).spec.strategy).toEqual({ type: "Recreate" });
      await patch("strategic", '{"spec":{"strategy":{"$retainKeys":["rollingUpdate","type"],"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}');
      expect((await get()).spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: "25%" } });
      // Volume is retainKeys too: emptyDir goes when configMap replaces it.
      await patch("strategic", '{"spec":{"template":{"spec":{"volumes":[{"name":"v","$retainKeys":["configMap","name"],"configMap":{"name":"cm"}}]}}}}');
      expect((await get()).spec.template.spec.volumes).toEqual([{ name: "v", configMap: { name: "cm", defaultMode: 420 } }]);
    });

    it("strategic: $deleteFromPrimitiveList/finalizers and $setElementOrder", async () => {
      await patch("strategic", '{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/b"]}}');
      expect((await get()).metadata.finalizers).toEqual(["example.com/a", "example.com/c"]);
      await patch("strategic", '{"metadata":{"$setElementOrder/finalizers":["example.com/c","example.com/d","example.com/a"],"finalizers":["example.com/d"]}}');
      expect((await get()).metadata.finalizers).toEqual(["example.com/c", "example.com/d", "example.com/a"]);
      await patch("strategic", '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}}}}');
      expect((await get()).spec.template.spec.containers.map((c) => c.name)).toEqual(["b", "a"]);
      // $patch: replace on a list: the patch's items only.
      await patch("strategic", '{"spec":{"template":{"spec":{"containers":[{"name":"z","image":"busybox:1.36"},{"$patch":"replace"}]}}}}');
      expect((await get()).spec.template.spec.containers.map((c) => c.name)).toEqual(["z"]);
      // Clear the finalizers so the namespace can go.
      await patch("merge", '{"metadata":{"finalizers":null}}');
    });

    it("malformed SMP directives are 400s naming them", async () => {
      const rv = (await get()).metadata.resourceVersion;
      const cases: [string, string][] = [
        ['{"spec":{"strategy":{"$retainKeys":"type"}}}', "invalid patch format of retainKeys"],
        ['{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":1}}}}', "invalid patch format of retainKeys"],
        ['{"metadata":{"labels":{"$patch":"bogus"}}}', "unknown patch type: bogus in map: map[$patch:bogus]"],
        ['{"metadata":{"labels":{"$patch":"merge"}}}', "unknown patch type: merge in map: map[$patch:merge]"],
        ['{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"image":"x"}]}}}}', "map: map[image:x] does not contain declared merge key: name"],
        ['{"spec":{"template":{"spec":{"$setElementOrder/containers":"x"}}}}', "expected a []interface {}, but received a string"],
      ];
      for (const [p, msg] of cases) {
        expect(await k.fails(n(["patch", "deployment", "pt", "-p", p])), p).toBe(`Error from server (BadRequest): ${msg}`);
      }
      expect((await get()).metadata.resourceVersion).toBe(rv);
    });
  });

  it("client-side apply flips the strategy type with $retainKeys", () => s.retainKeysFlip());
  it("unknown fields under Strict are named (client-side, server-side apply)", () => s.strictUnknown());
  it("diff --server-side of a changed Deployment: exit 1, only the changed lines", () => s.diffServerSide());
});

// ---------------------------------------------------------------- kubectl 1.29 and 1.33: a subset

// kubectl 1.29 is not in the harness's version list; the binary sits beside the others.
describe.each(["1.29" as KubectlVersion, "1.33" as const])("kubectl %s: apply subset", (version) => {
  let k: Kubectl;
  const s = scenarios(version, () => k);

  beforeAll(() => {
    k = new Kubectl(version, tug.kubeconfig);
  });
  afterAll(() => k.cleanup());

  it("apply --prune -l", () => s.prune());
  it("apply --prune --all --prune-allowlist", () => s.pruneAll(true));
  it("apply -k", () => s.kustomize());
  it("explain deployment.spec.strategy (v3 and plaintext-openapiv2)", () => s.explainStrategy());
  it("client-side apply flips the strategy type with $retainKeys", () => s.retainKeysFlip());
  it("unknown fields under Strict", () => s.strictUnknown());
  it("diff --server-side", () => s.diffServerSide());
});
