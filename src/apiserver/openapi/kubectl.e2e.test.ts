/**
 * Real kubectl against the control plane serving its generated OpenAPI documents (the handler is
 * wrapped through `ControlPlaneDeps` only to record the requests kubectl sends). Checks what kubectl needs from the documents: explain (v3 and v2),
 * create/replace/apply/diff with the default `--validate=strict`, `fieldValidation=Strict` sent to
 * the server, client-side apply computing a strategic merge patch from the v3 schema, and
 * kubectl 1.28 doing the same from the gnostic v2 protobuf.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MESSAGES } from "../../api/generated/schema.ts";
import { COMPONENTS } from "../../server/components.ts";
import { defaultDeps, startControlPlane, type ControlPlane } from "../../server/control-plane.ts";

function kubectlDir(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const p = join(dir, "kubectl");
    if (existsSync(p)) return dirname(realpathSync(p));
  }
  return undefined;
}

const KDIR = kubectlDir();
const have = (v: string): boolean => KDIR !== undefined && existsSync(join(KDIR, `kubectl.${v}`));

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly contentType: string;
}

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Whitespace-collapsed text: explain wraps descriptions at its own width. */
const flatText = (s: string): string => s.replace(/\s+/g, " ").trim();
const flat = (out: string): string => flatText(out);

/** A field's description from the schema table (the test fails if the field has none). */
function describedField(fq: string, json: string): string {
  const d = MESSAGES[fq]?.fields.find((f) => f.json === json)?.description;
  if (d === undefined) throw new Error(`${fq}.${json} has no description`);
  return flatText(d);
}

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
spec:
  replicas: 2
  selector:
    matchLabels: {app: NAME}
  template:
    metadata:
      labels: {app: NAME}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`;

describe.skipIf(!have("1.32") || !have("1.28"))("kubectl with generated OpenAPI", () => {
  let cp: ControlPlane;
  let dir: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tug-openapi-"));
    cp = await startControlPlane(
      {
        dataDir: join(dir, "data"), listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "kubeconfig"),
        // Only kubectl's requests in `seen`: no controllers writing through the same handler.
        disable: COMPONENTS.filter((c) => !c.required).map((c) => c.name),
      },
      {
        ...defaultDeps,
        createApiServer: async (ctx) => {
          const api = await defaultDeps.createApiServer(ctx);
          return {
            start: () => api.start(),
            stop: () => api.stop(),
            handler: async (req) => {
              seen.push({ method: req.method, path: req.path, query: req.query, contentType: req.headers["content-type"] ?? "" });
              return api.handler(req);
            },
          };
        },
      },
    );
  });

  afterAll(async () => {
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let runs = 0;
  /** Runs kubectl.<version> with a fresh HOME and cache dir (killed after 30 s). */
  const kubectl = (version: string, args: readonly string[], input = ""): Promise<Result> => {
    const home = join(dir, `home-${version}-${runs++}`);
    const argv = ["--kubeconfig", cp.kubeconfigPath, "--cache-dir", join(home, "cache"), ...args];
    return new Promise((res, rej) => {
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: "1" };
      delete env["KUBECONFIG"];
      const child = spawn(join(KDIR ?? "", `kubectl.${version}`), argv, { env, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => { stdout += d.toString("utf8"); });
      child.stderr.on("data", (d: Buffer) => { stderr += d.toString("utf8"); });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        rej(new Error(`kubectl ${args.join(" ")} timed out\n${stdout}\n${stderr}`));
      }, 30_000);
      child.on("error", rej);
      child.on("close", (code) => {
        clearTimeout(timer);
        res({ code, stdout, stderr });
      });
      child.stdin.end(input);
    });
  };
  const ok = async (version: string, args: readonly string[], input = ""): Promise<string> => {
    const r = await kubectl(version, args, input);
    if (r.code !== 0) throw new Error(`kubectl.${version} ${args.join(" ")} exited ${String(r.code)}\n${r.stdout}\n${r.stderr}`);
    expect(r.stderr).not.toMatch(/openapi/i);
    return r.stdout;
  };
  const since = (n: number): Seen[] => seen.slice(n);

  it("1.32 explain reads the v3 document", async () => {
    const out = await ok("1.32", ["explain", "deployment.spec.replicas"]);
    expect(out).toContain("KIND:       Deployment");
    expect(out).toContain("FIELD: replicas <integer>");
    const pods = await ok("1.32", ["explain", "pod.spec.containers.ports"]);
    expect(pods).toContain("FIELD: ports <[]ContainerPort>");
    expect(pods).toMatch(/containerPort\s+<integer> -required-/);
    expect(await ok("1.32", ["explain", "svc.spec.ports.targetPort"])).toContain("FIELD: targetPort <IntOrString>");
  });

  it("1.32 explain prints our descriptions (v3 and --output=plaintext-openapiv2)", async () => {
    const strategy = describedField("k8s.io.api.apps.v1.DeploymentSpec", "strategy");
    const strategyType = describedField("k8s.io.api.apps.v1.DeploymentStrategy", "type");
    const image = describedField("k8s.io.api.core.v1.Container", "image");
    const out = await ok("1.32", ["explain", "deployment.spec.strategy"]);
    expect(out).toContain("FIELD: strategy <DeploymentStrategy>");
    expect(flat(out)).toContain(strategy);
    expect(flat(out)).toContain(strategyType);
    expect(out).not.toContain("<empty>");
    const img = await ok("1.32", ["explain", "pod.spec.containers.image"]);
    expect(flat(img)).toContain(image);
    const kind = await ok("1.32", ["explain", "deployments"]);
    expect(flat(kind)).toContain(flatText(MESSAGES["k8s.io.api.apps.v1.Deployment"]?.description ?? "missing"));
    expect(kind).not.toContain("<empty>");
    const v2 = await ok("1.32", ["explain", "deployment.spec.strategy", "--output=plaintext-openapiv2"]);
    expect(flat(v2)).toContain(strategy);
    expect(flat(v2)).toContain(strategyType);
    const v2img = await ok("1.32", ["explain", "pod.spec.containers.image", "--output=plaintext-openapiv2"]);
    expect(flat(v2img)).toContain(image);
  });

  it("1.32 create -f with default strict validation sends fieldValidation=Strict", async () => {
    const n = seen.length;
    expect(await ok("1.32", ["create", "-f", "-"], DEPLOY.replaceAll("NAME", "demo"))).toBe("deployment.apps/demo created\n");
    const post = since(n).find((s) => s.method === "POST");
    expect(post?.query.get("fieldValidation")).toBe("Strict");
    expect(since(n).some((s) => s.path === "/openapi/v3/apis/apps/v1")).toBe(true);
  });

  it("1.32 sends an unknown field to the server with fieldValidation=Strict", async () => {
    const n = seen.length;
    const bad = DEPLOY.replaceAll("NAME", "bad").replace("  replicas: 2\n", "  replicas: 2\n  bogus: 1\n");
    const r = await kubectl("1.32", ["create", "-f", "-"], bad);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("failed to download openapi");
    expect(r.stderr).toContain('unknown field "spec.bogus"');
    expect(since(n).find((s) => s.method === "POST")?.query.get("fieldValidation")).toBe("Strict");
  });

  it("1.32 apply computes a strategic merge patch from the v3 schema; replace and diff work", async () => {
    const m = DEPLOY.replaceAll("NAME", "app");
    expect(await ok("1.32", ["apply", "-f", "-"], m)).toBe("deployment.apps/app created\n");
    const n = seen.length;
    const changed = m.replace("containerPort: 80", "containerPort: 81").replace("replicas: 2", "replicas: 3");
    const r = await kubectl("1.32", ["apply", "-f", "-"], changed);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("deployment.apps/app configured\n");
    const patch = since(n).find((s) => s.method === "PATCH");
    expect(patch?.contentType).toBe("application/strategic-merge-patch+json");
    expect(patch?.query.get("fieldValidation")).toBe("Strict");
    // kubectl -o json of a Deployment: the fields read below are always present after apply.
    const live = JSON.parse(await ok("1.32", ["get", "deployment", "app", "-o", "json"])) as {
      spec: { replicas: number; template: { spec: { containers: Array<{ ports: Array<{ containerPort: number }> }> } } };
    };
    expect(live.spec.replicas).toBe(3);
    expect(live.spec.template.spec.containers[0]?.ports.map((p) => p.containerPort)).toEqual([81]);

    const d = await kubectl("1.32", ["diff", "-f", "-"], changed.replace("replicas: 3", "replicas: 4"));
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/^-\s+replicas: 3$/m);
    expect(d.stdout).toMatch(/^\+\s+replicas: 4$/m);
    expect(await ok("1.32", ["replace", "-f", "-"], DEPLOY.replaceAll("NAME", "demo").replace("replicas: 2", "replicas: 1")))
      .toBe("deployment.apps/demo replaced\n");
  });

  it("1.32 explain --output=plaintext-openapiv2 reads the gnostic v2 protobuf", async () => {
    const n = seen.length;
    const out = await ok("1.32", ["explain", "deployment.spec.template.spec.containers.name", "--output=plaintext-openapiv2"]);
    expect(out).toContain("FIELD:    name <string>");
    expect(since(n).some((s) => s.path === "/openapi/v2")).toBe(true);
  });

  it("1.28 (OpenAPI v2 only) explains, validates on the server and applies with a strategic merge patch", async () => {
    expect(await ok("1.28", ["explain", "deployment.spec.replicas"])).toContain("FIELD: replicas <integer>");
    const m = DEPLOY.replaceAll("NAME", "old");
    expect(await ok("1.28", ["apply", "-f", "-"], m)).toBe("deployment.apps/old created\n");
    const n = seen.length;
    expect(await ok("1.28", ["apply", "-f", "-"], m.replace("replicas: 2", "replicas: 5"))).toBe("deployment.apps/old configured\n");
    const patch = since(n).find((s) => s.method === "PATCH");
    expect(patch?.contentType).toBe("application/strategic-merge-patch+json");
    expect(patch?.query.get("fieldValidation")).toBe("Strict");
    expect(since(n).some((s) => s.path === "/openapi/v2")).toBe(true);
    const bad = await kubectl("1.28", ["create", "-f", "-"], m.replace("name: old", "name: old2").replace("  replicas: 2\n", "  replicas: 2\n  bogus: 1\n"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown field "spec.bogus"');
  });
});
