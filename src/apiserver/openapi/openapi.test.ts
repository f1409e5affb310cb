import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { allKinds, kindByGvk } from "../../api/registry.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { createOpenApiService, GNOSTIC_V2_ACCEPT, GNOSTIC_V2_TYPE } from "./mod.ts";
import { operationGroup, tagOf } from "./paths.ts";
import { closure, definitionName, fieldSchema, type JsonSchema } from "./schemas.ts";
import { swaggerDocument } from "./v2.ts";
import { groupVersionDocument, gvKey } from "./v3.ts";

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown, what = "value"): Json {
  if (!isObj(v)) throw new Error(`${what} is not an object: ${JSON.stringify(v)?.slice(0, 200)}`);
  return v;
}

function arr(v: unknown, what = "value"): Json[] {
  if (!Array.isArray(v)) throw new Error(`${what} is not an array`);
  return v.map((x) => obj(x, what));
}

function bytesOf(r: HttpResponse | undefined): Uint8Array {
  if (!r) throw new Error("no response");
  if (!(r.body instanceof Uint8Array)) throw new Error(`body is not bytes: ${typeof r.body}`);
  return r.body;
}

function jsonOf(r: HttpResponse | undefined): Json {
  if (typeof r?.body === "string") return obj(JSON.parse(r.body));
  return obj(JSON.parse(new TextDecoder().decode(bytesOf(r))));
}

const svc = createOpenApiService();
const none = new URLSearchParams();
const doc = (key: string): Json => jsonOf(svc.handle(`/openapi/v3/${key}`, none, "application/json"));
const schemasOf = (d: Json): Json => obj(obj(d["components"])["schemas"]);

/** `v` without `description` keys (their text is checked in descriptions.test.ts; shapes here). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (!isObj(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) if (k !== "description") out[k] = shape(x);
  return out;
}

/** Every `$ref` string anywhere in `v`. */
function refs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refs(x, out);
  else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k === "$ref" && typeof x === "string") out.push(x);
      else refs(x, out);
    }
  }
  return out;
}

/** Follows one property the way kubectl's strategic-merge lookup does: property, then allOf[0]/$ref/items. */
function prop(schemas: Json, s: Json, name: string): { field: Json; target: Json } {
  const field = obj(obj(s["properties"], `properties of ${JSON.stringify(s).slice(0, 80)}`)[name], `property ${name}`);
  let t: Json = field;
  if (Array.isArray(t["items"]) || isObj(t["items"])) t = obj(t["items"]);
  if (Array.isArray(t["allOf"])) t = obj(t["allOf"][0]);
  const ref = t["$ref"];
  if (typeof ref === "string") t = obj(schemas[ref.replace("#/components/schemas/", "")], ref);
  return { field, target: t };
}

describe("names", () => {
  it("maps protobuf packages to upstream definition names", () => {
    expect(definitionName("k8s.io.api.apps.v1.Deployment")).toBe("io.k8s.api.apps.v1.Deployment");
    expect(definitionName("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")).toBe("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    expect(operationGroup("", "v1")).toBe("CoreV1");
    expect(operationGroup("rbac.authorization.k8s.io", "v1")).toBe("RbacAuthorizationV1");
    expect(tagOf("rbac.authorization.k8s.io", "v1")).toBe("rbacAuthorization_v1");
    expect(tagOf("apps", "v1")).toBe("apps_v1");
  });

  it("rejects unknown messages and field types", () => {
    expect(() => closure(["k8s.io.api.apps.v1.NoSuchThing"])).toThrow(/unknown message k8s.io.api.apps.v1.NoSuchThing/);
    expect(() => fieldSchema({ json: "x", name: "x", number: 1, type: "k8s.io.nope.Thing" }, "v3")).toThrow(/neither a scalar nor a known message/);
    expect(() => groupVersionDocument(allKinds(), { group: "nope.example.com", version: "v9" }, "v1")).toThrow(/no kinds in apis\/nope.example.com\/v9/);
  });
});

describe("v3 root", () => {
  it("lists every served group/version with the content hash of its document", () => {
    const r = svc.handle("/openapi/v3", none, "application/json, */*");
    expect(r?.status).toBe(200);
    expect(r?.headers?.["content-type"]).toBe("application/json");
    const paths = obj(jsonOf(r)["paths"]);
    const want = [...new Set(allKinds().map((k) => gvKey(k)))].sort();
    expect(Object.keys(paths).sort()).toEqual(want);
    expect(want).toContain("api/v1");
    expect(want).toContain("apis/apps/v1");
    for (const key of ["api/v1", "apis/apps/v1"]) {
      const url = obj(paths[key])["serverRelativeURL"];
      const body = bytesOf(svc.handle(`/openapi/v3/${key}`, none, "application/json"));
      const hash = createHash("sha512").update(body).digest("hex").toUpperCase();
      expect(url).toBe(`/openapi/v3/${key}?hash=${hash}`);
    }
  });
});

describe("v3 group/version documents", () => {
  const apps = doc("apis/apps/v1");
  const core = doc("api/v1");

  it("is an OpenAPI 3.0 document", () => {
    expect(apps["openapi"]).toBe("3.0.0");
    expect(obj(apps["info"])["title"]).toBe("Kubernetes");
  });

  it("has the Deployment schema with GVK and the containers merge key", () => {
    const schemas = schemasOf(apps);
    const dep = obj(schemas["io.k8s.api.apps.v1.Deployment"]);
    expect(dep["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    expect(Object.keys(obj(dep["properties"])).sort()).toEqual(["apiVersion", "kind", "metadata", "spec", "status"]);
    const spec = prop(schemas, dep, "spec").target;
    expect(shape(prop(schemas, spec, "replicas").field)).toEqual({ type: "integer", format: "int32" });
    const strategy = prop(schemas, spec, "strategy").field;
    expect(strategy["x-kubernetes-patch-strategy"]).toBe("retainKeys");
    expect(strategy["allOf"]).toEqual([{ $ref: "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy" }]);
    const template = prop(schemas, spec, "template").target;
    const podSpec = prop(schemas, template, "spec").target;
    const containers = prop(schemas, podSpec, "containers");
    expect(containers.field["type"]).toBe("array");
    expect(containers.field["x-kubernetes-patch-merge-key"]).toBe("name");
    expect(containers.field["x-kubernetes-patch-strategy"]).toBe("merge");
    expect(containers.field["x-kubernetes-list-type"]).toBe("map");
    expect(containers.field["x-kubernetes-list-map-keys"]).toEqual(["name"]);
    expect(shape(prop(schemas, containers.target, "image").field)).toEqual({ type: "string" });
    expect(obj(prop(schemas, containers.target, "ports").field)["x-kubernetes-patch-merge-key"]).toBe("containerPort");
    expect(podSpec["required"]).toEqual(["containers"]);
  });

  it("spells special types like upstream", () => {
    const s = schemasOf(core);
    expect(shape(s["io.k8s.apimachinery.pkg.apis.meta.v1.Time"])).toEqual({ type: "string", format: "date-time" });
    expect(shape(s["io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"])).toEqual({ type: "string", format: "date-time" });
    expect(shape(s["io.k8s.apimachinery.pkg.api.resource.Quantity"])).toEqual({ oneOf: [{ type: "string" }, { type: "number" }] });
    expect(obj(s["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])["x-kubernetes-int-or-string"]).toBe(true);
    expect(obj(s["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])["format"]).toBe("int-or-string");
    expect(shape(schemasOf(apps)["io.k8s.apimachinery.pkg.runtime.RawExtension"])).toEqual({ type: "object" }); // ControllerRevision.data
    const meta = obj(s["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]);
    expect(shape(prop(s, meta, "labels").field)).toEqual({ type: "object", additionalProperties: { type: "string" } });
    expect(shape(prop(s, meta, "generation").field)).toEqual({ type: "integer", format: "int64" });
    // Described, so the reference is wrapped in allOf (v3 ignores siblings of $ref).
    expect(shape(prop(s, meta, "creationTimestamp").field)).toEqual({ allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time" }] });
    expect(meta["required"]).toBeUndefined();
    const secret = obj(s["io.k8s.api.core.v1.Secret"]);
    expect(shape(prop(s, secret, "data").field)).toEqual({ type: "object", additionalProperties: { type: "string", format: "byte" } });
    const rr = obj(s["io.k8s.api.core.v1.ResourceRequirements"]);
    expect(shape(prop(s, rr, "limits").field)).toEqual({
      type: "object", additionalProperties: { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity" },
    });
  });

  it("resolves every $ref inside the same document, for every group/version", () => {
    const root = obj(jsonOf(svc.handle("/openapi/v3", none, "application/json"))["paths"]);
    for (const key of Object.keys(root)) {
      const d = doc(key);
      const schemas = schemasOf(d);
      const all = refs(d);
      expect(all.length).toBeGreaterThan(0);
      for (const r of all) {
        expect(r.startsWith("#/components/schemas/"), `${key}: ${r}`).toBe(true);
        expect(schemas[r.slice("#/components/schemas/".length)], `${key}: ${r}`).toBeDefined();
      }
    }
  });

  it("never requires a field the schema does not have", () => {
    for (const key of ["api/v1", "apis/apps/v1", "apis/batch/v1"]) {
      for (const [name, s] of Object.entries(schemasOf(doc(key)))) {
        const req = obj(s)["required"];
        if (req === undefined) continue;
        expect(Array.isArray(req)).toBe(true);
        for (const f of Array.isArray(req) ? req : []) expect(Object.keys(obj(obj(s)["properties"])), `${name}.${String(f)}`).toContain(f);
      }
    }
  });

  it("gives every PATCH the GVK, fieldValidation and the four patch content types", () => {
    let patches = 0;
    for (const key of ["api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1"]) {
      const paths = obj(doc(key)["paths"]);
      for (const [path, item] of Object.entries(paths)) {
        const p = obj(item)["patch"];
        if (p === undefined) continue;
        patches++;
        const op = obj(p);
        expect(op["x-kubernetes-action"]).toBe("patch");
        const gvk = obj(op["x-kubernetes-group-version-kind"], `${path} gvk`);
        expect(Object.keys(gvk)).toEqual(["group", "kind", "version"]);
        const params = arr(op["parameters"], `${path} parameters`);
        const names = params.filter((x) => x["in"] === "query").map((x) => x["name"]);
        expect(names, path).toEqual(expect.arrayContaining(["fieldValidation", "dryRun", "fieldManager", "force"]));
        expect(Object.keys(obj(obj(op["requestBody"])["content"])).sort()).toEqual([
          "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
          "application/strategic-merge-patch+json",
        ]);
      }
    }
    expect(patches).toBeGreaterThan(20);
  });

  it("has the paths kubectl explain and apply look up", () => {
    const paths = obj(apps["paths"]);
    const item = obj(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]);
    expect(Object.keys(item).sort()).toEqual(["delete", "get", "parameters", "patch", "put"]);
    expect(obj(obj(item["get"])["x-kubernetes-group-version-kind"])).toEqual({ group: "apps", kind: "Deployment", version: "v1" });
    const coll = obj(paths["/apis/apps/v1/namespaces/{namespace}/deployments"]);
    const post = obj(coll["post"]);
    expect(arr(post["parameters"]).map((x) => x["name"])).toEqual(["dryRun", "fieldManager", "fieldValidation"]);
    expect(obj(obj(obj(post["requestBody"])["content"])["*/*"])["schema"]).toEqual({ $ref: "#/components/schemas/io.k8s.api.apps.v1.Deployment" });
    const scale = obj(obj(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"])["patch"]);
    expect(scale["x-kubernetes-group-version-kind"]).toEqual({ group: "autoscaling", kind: "Scale", version: "v1" });
    expect(obj(schemasOf(apps)["io.k8s.api.autoscaling.v1.Scale"])["x-kubernetes-group-version-kind"]).toEqual([
      { group: "autoscaling", kind: "Scale", version: "v1" },
    ]);
    expect(paths["/apis/apps/v1/deployments"]).toBeDefined();
    const corePaths = obj(core["paths"]);
    expect(corePaths["/api/v1/nodes/{name}"]).toBeDefined();
    expect(corePaths["/api/v1/namespaces/{namespace}/nodes"]).toBeUndefined();
    expect(obj(obj(corePaths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"])["post"])["x-kubernetes-group-version-kind"])
      .toEqual({ group: "policy", kind: "Eviction", version: "v1" });
    expect(obj(schemasOf(core)["io.k8s.api.core.v1.Pod"])["x-kubernetes-group-version-kind"]).toEqual([{ group: "", kind: "Pod", version: "v1" }]);
  });

  it("only serves the kinds it was given", () => {
    const cm = kindByGvk("v1", "ConfigMap");
    if (!cm) throw new Error("no ConfigMap kind");
    const small = createOpenApiService({ kinds: [cm], version: "v9.9.9" });
    const root = obj(jsonOf(small.handle("/openapi/v3", none, "application/json"))["paths"]);
    expect(Object.keys(root)).toEqual(["api/v1"]);
    const d = jsonOf(small.handle("/openapi/v3/api/v1", none, "application/json"));
    expect(obj(d["info"])["version"]).toBe("v9.9.9");
    expect(Object.keys(obj(d["paths"])).sort()).toEqual([
      "/api/v1/configmaps", "/api/v1/namespaces/{namespace}/configmaps", "/api/v1/namespaces/{namespace}/configmaps/{name}",
    ]);
    expect(schemasOf(d)["io.k8s.api.core.v1.Pod"]).toBeUndefined();
    expect(small.handle("/openapi/v3/apis/apps/v1", none, "application/json")?.status).toBe(404);
  });
});

describe("v2 document", () => {
  it("resolves every $ref to a definition and carries GVKs and patch extensions", () => {
    const d = swaggerDocument(allKinds(), "v1.32.0");
    expect(d.swagger).toBe("2.0");
    for (const r of refs(d)) {
      expect(r.startsWith("#/definitions/"), r).toBe(true);
      expect(d.definitions[r.slice("#/definitions/".length)], r).toBeDefined();
    }
    const podSpec: JsonSchema | undefined = d.definitions["io.k8s.api.core.v1.PodSpec"];
    expect(podSpec?.properties?.["containers"]).toMatchObject({
      type: "array", items: { $ref: "#/definitions/io.k8s.api.core.v1.Container" }, "x-kubernetes-patch-merge-key": "name",
    });
    // v2 puts extensions beside $ref (no allOf) and has no oneOf.
    expect(shape(d.definitions["io.k8s.api.apps.v1.DeploymentSpec"]?.properties?.["strategy"])).toEqual({
      $ref: "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy", "x-kubernetes-patch-strategy": "retainKeys",
    });
    expect(shape(d.definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"])).toEqual({ type: "string" });
    expect(shape(d.definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])).toEqual({ type: "string", format: "int-or-string" });
    // (JSONSchemaProps has a property named oneOf; no schema uses the keyword.)
    expect(JSON.stringify(d)).not.toContain(`"oneOf":[`);
    const patch = d.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]?.patch;
    expect(patch?.parameters.find((p) => p.name === "fieldValidation")).toMatchObject({ in: "query", type: "string" });
    expect(patch?.["x-kubernetes-group-version-kind"]).toEqual({ group: "apps", kind: "Deployment", version: "v1" });
    // Every array has items (kubectl's v2 model parser rejects arrays without).
    const arraysWithoutItems = JSON.stringify(d).match(/"type":"array"(?![^{}]*"items")[^{}]*}/g);
    expect(arraysWithoutItems).toBeNull();
  });
});

describe("service", () => {
  it("ignores paths it does not own", () => {
    expect(svc.handle("/api/v1", none, "application/json")).toBeUndefined();
    expect(svc.handle("/openapix", none, "application/json")).toBeUndefined();
    expect(svc.handle("/version", none, "")).toBeUndefined();
  });

  it("404s unknown documents with a Status", () => {
    for (const p of ["/openapi", "/openapi/v1", "/openapi/v3/apis/nope/v1", "/openapi/v3/api/v2", "/openapi/v3/apis"]) {
      const r = svc.handle(p, none, "application/json");
      expect(r?.status, p).toBe(404);
      expect(jsonOf(r)).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    }
  });

  it("406s an Accept it cannot serve", () => {
    const r = svc.handle("/openapi/v2", none, "application/xml");
    expect(r?.status).toBe(406);
    expect(jsonOf(r)).toMatchObject({ reason: "NotAcceptable", code: 406 });
    expect(svc.handle("/openapi/v3/api/v1", none, "text/html")?.status).toBe(406);
    expect(svc.handle("/openapi/v3", none, "application/yaml;q=1, application/json;q=0")?.status).toBe(406);
  });

  it("negotiates v2: protobuf for the gnostic types, JSON otherwise", () => {
    const pb = svc.handle("/openapi/v2", none, GNOSTIC_V2_ACCEPT);
    expect(pb?.status).toBe(200);
    // Go's mime parser rejects the "@" spelling, so the response uses the ".v1.0" one.
    expect(pb?.headers?.["content-type"]).toBe(GNOSTIC_V2_TYPE);
    expect(bytesOf(pb)[0]).toBe(0x0a); // field 1 (swagger), length-delimited
    expect(svc.handle("/openapi/v2", none, GNOSTIC_V2_TYPE)?.headers?.["content-type"]).toBe(GNOSTIC_V2_TYPE);
    for (const accept of ["", "*/*", "application/json", `application/json, ${GNOSTIC_V2_ACCEPT};q=0.5`]) {
      const j = svc.handle("/openapi/v2", none, accept);
      expect(j?.headers?.["content-type"], accept).toBe("application/json");
      expect(jsonOf(j)["swagger"]).toBe("2.0");
    }
  });

  it("serves ETags, 304s on If-None-Match and gzips large bodies when asked", () => {
    const r = svc.handle("/openapi/v3/api/v1", none, "application/json");
    const etag = r?.headers?.["etag"];
    expect(etag).toMatch(/^"[0-9A-F]{128}"$/);
    const again = svc.handle("/openapi/v3/api/v1", none, "application/json", { "if-none-match": etag });
    expect(again?.status).toBe(304);
    expect(again?.body).toBeUndefined();
    expect(svc.handle("/openapi/v3/api/v1", none, "application/json", { "if-none-match": '"other"' })?.status).toBe(200);
    const gz = svc.handle("/openapi/v3/api/v1", none, "application/json", { "accept-encoding": "gzip" });
    expect(gz?.headers?.["content-encoding"]).toBe("gzip");
    expect(Buffer.from(gunzipSync(bytesOf(gz))).equals(Buffer.from(bytesOf(r)))).toBe(true);
    expect(svc.handle("/openapi/v3", none, "application/json", { "accept-encoding": "gzip" })?.headers?.["content-encoding"]).toBeUndefined();
  });

  it("marks the current hash immutable and redirects a stale one", () => {
    const root = obj(jsonOf(svc.handle("/openapi/v3", none, "application/json"))["paths"]);
    const url = String(obj(root["apis/apps/v1"])["serverRelativeURL"]);
    const q = new URL(url, "https://x").searchParams;
    const cur = svc.handle("/openapi/v3/apis/apps/v1", q, "application/json");
    expect(cur?.headers?.["cache-control"]).toBe("public, immutable");
    const stale = svc.handle("/openapi/v3/apis/apps/v1", new URLSearchParams({ hash: "0BAD" }), "application/json");
    expect(stale?.status).toBe(301);
    expect(stale?.headers?.["location"]).toBe(url);
    expect(svc.handle("/openapi/v3/apis/apps/v1", none, "application/json")?.headers?.["cache-control"]).toBe("no-cache, private");
  });

  it("builds once and returns the same bytes", () => {
    const a = bytesOf(svc.handle("/openapi/v3/apis/apps/v1", none, "application/json"));
    const b = bytesOf(svc.handle("/openapi/v3/apis/apps/v1/", none, "application/json"));
    expect(a).toBe(b);
  });
});
