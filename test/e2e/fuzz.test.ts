/**
 * API fuzz test (issue 2 §4): thousands of mutated requests against a live server. Every response
 * must be a Kubernetes Status with a 4xx code for bad input (never a 5xx), no request may hang
 * (per-request timeout), the server must keep answering /healthz, and the objects created before
 * the storm must be intact afterwards.
 *
 * Deterministic per seed: set TUG_FUZZ_SEED to replay a run; the seed is printed on failure.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { H2Client, RequestTimeoutError, type H2Response } from "./h2client.ts";
import { startTug, tempDir, type TugProcess } from "./harness.ts";

const SEED = Number(process.env["TUG_FUZZ_SEED"] ?? Date.now() % 2 ** 31);
const MAX_REQUESTS = 3000;
const TIME_CAP_MS = 30_000;
const IN_FLIGHT = 8;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP = "fuzz-keep"; // seeded objects live here; the fuzzer never addresses this namespace
const NS = "fuzz";

let tug: TugProcess;
let api: H2Client;

/** mulberry32: small, seedable PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(SEED);
// the index is always in range for the non-empty literal arrays used here
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const chance = (p: number): boolean => rand() < p;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

// ------------------------------------------------------------------ protobuf by hand (test-only)

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function field(num: number, bytes: Uint8Array | string): number[] {
  const b = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
  return [...varint((num << 3) | 2), ...varint(b.length), ...b];
}
/** `k8s\0` + Unknown{typeMeta{apiVersion,kind}, raw=ConfigMap{metadata{name}, data{k:v}}}. */
function protoConfigMap(name: string, apiVersion = "v1", kind = "ConfigMap"): Uint8Array {
  const meta = field(1, name);
  const entry = [...field(1, "k"), ...field(2, "v")];
  const cm = [...field(1, new Uint8Array(meta)), ...field(2, new Uint8Array(entry))];
  const typeMeta = [...field(1, apiVersion), ...field(2, kind)];
  const unknown = [...field(1, new Uint8Array(typeMeta)), ...field(2, new Uint8Array(cm))];
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...unknown]);
}

// ------------------------------------------------------------------ request generation

const PROTO = "application/vnd.kubernetes.protobuf";

const RESOURCE_PATHS = [
  `/api/v1/namespaces/${NS}/configmaps`,
  `/api/v1/namespaces/${NS}/configmaps/cm`,
  `/api/v1/namespaces/${NS}/secrets/s`,
  `/api/v1/namespaces/${NS}/pods`,
  `/api/v1/namespaces/${NS}/pods/p`,
  `/api/v1/namespaces/${NS}/pods/p/status`,
  `/api/v1/namespaces/${NS}/pods/p/binding`,
  `/api/v1/namespaces/${NS}/services/svc`,
  `/api/v1/namespaces/${NS}/events`,
  `/apis/apps/v1/namespaces/${NS}/deployments`,
  `/apis/apps/v1/namespaces/${NS}/deployments/d`,
  `/apis/apps/v1/namespaces/${NS}/deployments/d/scale`,
  `/apis/apps/v1/namespaces/${NS}/deployments/d/status`,
  `/apis/batch/v1/namespaces/${NS}/jobs/j`,
  `/apis/rbac.authorization.k8s.io/v1/clusterroles/fuzz-role`,
  `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/i`,
  `/api/v1/nodes/fuzz-node`,
  `/api/v1/namespaces/${NS}`,
  `/api/v1/watch/namespaces/${NS}/configmaps`,
];
const READ_ONLY_PATHS = [
  "/api", "/apis", "/api/v1", "/apis/apps/v1", "/apis/apps", "/version", "/healthz", "/livez", "/readyz",
  "/metrics", "/openapi/v3", "/api/v1/pods", "/api/v1/configmaps", "/apis/apps/v1/deployments", "/api/v1/nodes",
  "/api/v1/namespaces",
];
const GARBAGE_SEGMENTS = [
  "..", ".", "%2e%2e", "%2F", "%00", "x".repeat(300), "UPPER", "ünïcødé", "a b", "%ff%fe", "~", "*", "$", "'",
  "-leading", "trailing-", "a.b.c", "99999999999999999999", "", "watch", "status", "scale", "finalize", "namespaces",
  "api", "apis", "v1", "v2", "v1beta1", "pods", "deployments", "%", "%zz", "\\", "?", "#",
];
const METHODS = ["GET", "GET", "GET", "POST", "POST", "PUT", "PATCH", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "CONNECTX"];

function mutatePath(path: string): string {
  const segs = path.split("/").slice(1);
  const ops = int(0, 3);
  for (let i = 0; i < ops; i++) {
    const at = int(0, segs.length);
    switch (int(0, 6)) {
      case 0: segs.splice(at, 0, pick(GARBAGE_SEGMENTS)); break;
      case 1: if (segs.length > 1) segs.splice(Math.min(at, segs.length - 1), 1); break;
      case 2: segs[Math.min(at, segs.length - 1)] = pick(GARBAGE_SEGMENTS); break;
      case 3: segs.push(""); break; // trailing slash
      case 4: segs.splice(at, 0, ...segs.slice(0, 2)); break;
      case 5: segs[Math.min(at, segs.length - 1)] = (segs[Math.min(at, segs.length - 1)] ?? "").toUpperCase(); break;
      default: break;
    }
  }
  const out = "/" + segs.join("/");
  return chance(0.05) ? out.replace("/", "//") : out;
}

const QUERY_VALUES: Record<string, readonly string[]> = {
  limit: ["-1", "0", "abc", "1.5", "99999999999999999999", "1", "500", ""],
  continue: ["garbage", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", "%%%", "", "a".repeat(2000)],
  labelSelector: ["a in (", "==", "!!x", "a=b,c", "a notin (x,y)", "x=" + "y".repeat(70), "a=b=c", "a in ()", "(", "=,=", "a>1", "app=web", "!", "a,b,", "ü=1"],
  fieldSelector: ["foo=bar", "metadata.name", "metadata.name==", "metadata.name=x", "spec.nodeName=n", "status.phase!=Running", "==", "metadata.name=a,", "involvedObject.kind=Pod"],
  resourceVersion: ["abc", "-5", "99999999999", "0", "1", "", "1.0", "18446744073709551616"],
  resourceVersionMatch: ["Bogus", "NotOlderThan", "Exact", ""],
  timeoutSeconds: ["-1", "abc", "1", "0", "99999999999999999999"],
  dryRun: ["Bogus", "All", "", "All,All"],
  fieldValidation: ["Bogus", "Strict", "Warn", "Ignore", ""],
  fieldManager: ["x".repeat(200), "kubectl", "", "\u0001"],
  propagationPolicy: ["Bogus", "Orphan", "Foreground", ""],
  gracePeriodSeconds: ["abc", "-1", "0", "99999999999999999999"],
  as: ["Table", "Bogus"],
  includeObject: ["Bogus", "Object", "None"],
  allowWatchBookmarks: ["maybe", "true"],
  pretty: ["x", "true"],
  sendInitialEvents: ["true", "x"],
};

interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: Uint8Array | string;
  label: string;
  /** A watch: resolve on headers for 2xx. */
  watch: boolean;
}

const validConfigMap = (name: string): Record<string, unknown> => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { fuzz: "yes" } }, data: { k: "v" } });
const validDeployment = (name: string): Record<string, unknown> => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
});
const validPod = (name: string): Record<string, unknown> => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "busybox" }] } });

function deepNest(depth: number): string {
  return '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":' + '{"a":'.repeat(depth) + "1" + "}".repeat(depth) + "}";
}

function mutateValue(obj: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(obj);
  const meta = (copy["metadata"] ?? {}) as Record<string, unknown>; // built above as an object
  switch (int(0, 14)) {
    case 0: copy["metadata"] = pick(["x", 5, [], null, true]); break;
    case 1: meta["name"] = pick(["x".repeat(int(254, 5000)), "UPPER", "a_b", "", "-x", "x-", "a..b", 42, null, "ü"]); break;
    case 2: meta["labels"] = pick([{ a: 5 }, { "bad key!": "v" }, { a: "x".repeat(100) }, "labels", [1]]); break;
    case 3: copy["kind"] = pick(["Pod", "Secret", "Bogus", "", 7, "Status", "List"]); break;
    case 4: copy["apiVersion"] = pick(["v2", "apps/v1", "bogus/v1", "", null, "v1/v1"]); break;
    case 5: copy["spec"] = pick([{ replicas: "three" }, { replicas: -5 }, { replicas: 2 ** 53 }, "spec", { containers: "x" }, { containers: [{}] }]); break;
    case 6: copy["data"] = pick([{ k: 5 }, "data", [1, 2], { "bad/key": "v" }, { "": "v" }]); break;
    case 7: meta["resourceVersion"] = pick(["abc", "-1", "1", "99999999999"]); break;
    case 8: meta["namespace"] = pick(["other", "UPPER", KEEP, "", 5]); break;
    case 9: copy["unknownTopLevel"] = { nested: true }; break;
    case 10: meta["finalizers"] = pick([["bad finalizer"], "x", [5], ["a/b"]]); break;
    case 11: meta["generateName"] = pick(["gen-", "UP-", "x".repeat(300), 5]); meta["name"] = undefined; break;
    case 12: meta["ownerReferences"] = pick([[{}], "x", [{ apiVersion: "v1", kind: "X", name: "n", uid: "" }]]); break;
    case 13: meta["annotations"] = { big: "x".repeat(int(1, 300_000)) }; break;
    default: meta["creationTimestamp"] = pick(["yesterday", 5, "2020-13-45T99:99:99Z"]); break;
  }
  return copy;
}

function mutateBytes(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  if (out.length === 0) return out;
  switch (int(0, 3)) {
    case 0: return out.subarray(0, int(0, out.length - 1)); // truncate
    case 1: for (let i = int(1, 8); i > 0; i--) out[int(0, out.length - 1)] = int(0, 255); return out;
    case 2: { const at = int(0, out.length - 1); return new Uint8Array([...out.subarray(0, at), ...new Uint8Array(int(1, 16)).map(() => int(0, 255)), ...out.subarray(at)]); }
    default: return new Uint8Array([...out, ...out]);
  }
}

function makeBody(path: string, method: string): { body: Uint8Array | string; contentType: string } {
  const name = `f${int(0, 40)}`;
  const base = path.includes("deployments") ? validDeployment(name) : path.includes("/pods") ? validPod(name) : validConfigMap(name);
  const json = (o: unknown): string => JSON.stringify(o);
  const patchTypes = ["application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];
  switch (int(0, 15)) {
    case 0: return { body: json(base), contentType: "application/json" };
    case 1: return { body: json(mutateValue(base)), contentType: "application/json" };
    case 2: return { body: mutateBytes(Buffer.from(json(base))), contentType: "application/json" };
    case 3: return { body: protoConfigMap(name), contentType: PROTO };
    case 4: return { body: mutateBytes(protoConfigMap(name)), contentType: PROTO };
    case 5: return { body: protoConfigMap(name, pick(["v2", "apps/v1", ""]), pick(["Pod", "", "X"])), contentType: PROTO };
    case 6: return { body: deepNest(pick([100, 1000, 10_000, 100_000])), contentType: "application/json" };
    case 7: return { body: json(base), contentType: pick(["text/plain", "application/xml", "", "application/json; charset=utf-16", "multipart/form-data; boundary=x", `${PROTO};stream=watch`, "*/*", "application/json;;;", "bogus"]) };
    case 8: return { body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  labels: [unclosed\n", contentType: "application/yaml" };
    case 9: return { // billion laughs: aliases must not expand without bound
      body: 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\n',
      contentType: "application/yaml",
    };
    case 10: return { body: pick(["[]", "null", "0", '"str"', "{}", "", "{", '{"a":1}{"b":2}', "\u0000\u0001"]), contentType: pick(["application/json", ...patchTypes]) };
    case 11: return { body: pick(['[{"op":"bogus","path":"/x"}]', '[{"op":"remove","path":"/metadata/name"}]', '[{"op":"add","path":"/a/b/c","value":1}]', '[{"op":"test","path":"/data/k","value":"no"}]', '{"metadata":{"name":"renamed"}}', '{"data":null}', '{"$patch":"delete"}', '[{"op":"move","from":"/data","path":"/data/x"}]']), contentType: pick(patchTypes) };
    case 12: return { body: json(base), contentType: pick(patchTypes) };
    case 13: return { body: gzipSync(Buffer.from(json(base))), contentType: "application/json" };
    case 14: return { body: json({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: pick(["Bogus", "Orphan", 5]), gracePeriodSeconds: pick([-1, "x", 0]), preconditions: { uid: pick(["nope", 5]) } }), contentType: "application/json" };
    default: return { body: method === "PATCH" ? "{}" : json(base), contentType: "application/yaml" };
  }
}

function generate(n: number): FuzzRequest {
  const readOnly = chance(0.15);
  let path = readOnly ? pick(READ_ONLY_PATHS) : pick(RESOURCE_PATHS);
  if (chance(0.5)) path = mutatePath(path);
  // Mostly methods that fit the path's shape (so requests reach decoding and validation), with a
  // share of arbitrary ones.
  const named = /\/(cm|s|p|svc|d|j|fuzz-role|i|fuzz-node|fuzz)$|\/(status|scale|binding)$/.test(path);
  let method = readOnly
    ? pick(["GET", "GET", "HEAD", "POST", "DELETE"])
    : chance(0.25)
    ? pick(METHODS)
    : named
    ? pick(["GET", "PUT", "PUT", "PATCH", "PATCH", "PATCH", "DELETE"])
    : pick(["GET", "POST", "POST", "POST", "DELETE"]);
  // Never address the seeded namespace or delete whole cluster-scoped collections (that would be
  // legitimate destruction, not a fuzz finding).
  path = path.split(KEEP).join(NS);
  const segs = path.split("/").filter((s) => s !== "");
  if (method === "DELETE" && (segs.length <= 3 || !path.includes(`/namespaces/${NS}/`))) method = "GET";

  const params = new URLSearchParams();
  for (let i = int(0, 3); i > 0; i--) {
    const key = pick(Object.keys(QUERY_VALUES));
    params.append(key, pick(QUERY_VALUES[key] ?? [""]));
  }
  const watch = path.includes("/watch/") || (chance(0.08) && (params.append("watch", pick(["true", "1", "x"])), true));
  if (watch) params.set("timeoutSeconds", pick(["1", "1", "1", "abc", "-1"]));
  let query = params.toString();
  if (chance(0.03)) query += pick(["&&&", "=x", "%zz=1", "a=%", "limit=1&limit=2"]);

  const headers: Record<string, string> = {};
  headers["accept"] = chance(0.1)
    ? pick(["application/xml", "text/html", "garbage/;;;", "application/json;as=Bogus;v=v1;g=meta.k8s.io", ""])
    : pick(["application/json", "application/json", "application/json", "*/*", `${PROTO}, application/json`, "application/yaml",
      "application/json;as=Table;v=v1;g=meta.k8s.io", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", PROTO]);
  let body: Uint8Array | string | undefined;
  if (method === "POST" || method === "PUT" || method === "PATCH" || (method === "DELETE" && chance(0.3)) || chance(0.03)) {
    const b = makeBody(path, method);
    body = b.body;
    if (b.contentType !== "" || chance(0.5)) headers["content-type"] = b.contentType;
  }
  if (chance(0.02)) headers["content-encoding"] = pick(["gzip", "bogus"]);
  return { method, path, query, headers, ...(body !== undefined ? { body } : {}), label: `#${n}`, watch };
}

// ------------------------------------------------------------------ checks

/** Is `body` a Kubernetes Status with this code, in JSON, YAML or protobuf? */
function statusProblem(res: H2Response, method: string): string | undefined {
  if (method === "HEAD") return undefined;
  const text = res.body.toString("utf8");
  const ct = res.headers["content-type"] ?? "";
  if (res.body.subarray(0, 4).equals(Buffer.from([0x6b, 0x38, 0x73, 0x00]))) {
    return res.body.includes(Buffer.from("Status")) ? undefined : "protobuf body without a Status";
  }
  let doc: unknown;
  try {
    doc = ct.includes("yaml") ? parseYaml(text) : JSON.parse(text);
  } catch {
    return `body is not a Status (content-type ${ct}): ${text.slice(0, 120)}`;
  }
  if (typeof doc !== "object" || doc === null) return `body is not an object: ${text.slice(0, 120)}`;
  const s = doc as Record<string, unknown>; // narrowed just above
  if (s["kind"] !== "Status" || s["apiVersion"] !== "v1") return `not a v1 Status: ${text.slice(0, 160)}`;
  if (s["status"] !== "Failure") return `status is ${String(s["status"])}`;
  if (s["code"] !== res.status) return `Status.code ${String(s["code"])} != HTTP ${res.status}`;
  if (typeof s["message"] !== "string" || s["message"] === "") return "Status without a message";
  return undefined;
}

interface Finding {
  req: string;
  problem: string;
}

function describeReq(r: FuzzRequest): string {
  const body = r.body === undefined ? "" : ` body(${r.headers["content-type"] ?? "no content-type"}, ${r.body.length} B): ${
    typeof r.body === "string" ? r.body.slice(0, 100) : Buffer.from(r.body.subarray(0, 40)).toString("hex")}`;
  return `${r.label} ${r.method} ${r.path}${r.query ? "?" + r.query : ""} accept=${r.headers["accept"] ?? ""}${body}`;
}

// ------------------------------------------------------------------ the test

interface Seeded {
  path: string;
  rv: string;
  uid: string;
}
const seeded: Seeded[] = [];

beforeAll(async () => {
  tug = await startTug({ apiOnly: true }); // the API's own behaviour, no controllers
  api = new H2Client(tug.url, { ca: tug.caPem, cert: tug.certPem, key: tug.keyPem });
  for (const ns of [KEEP, NS]) {
    expect((await api.json("POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  }
  const objs: Array<[string, Record<string, unknown>]> = [
    ...Array.from({ length: 10 }, (_, i): [string, Record<string, unknown>] => [`/api/v1/namespaces/${KEEP}/configmaps`, validConfigMap(`keep-${i}`)]),
    [`/apis/apps/v1/namespaces/${KEEP}/deployments`, validDeployment("keep-deploy")],
    [`/api/v1/namespaces/${KEEP}/pods`, validPod("keep-pod")],
    [`/api/v1/namespaces/${KEEP}/secrets`, { apiVersion: "v1", kind: "Secret", metadata: { name: "keep-secret" }, stringData: { a: "b" } }],
    // targets the fuzzer does address: existing objects make update/patch/delete paths reachable
    [`/api/v1/namespaces/${NS}/configmaps`, validConfigMap("cm")],
    [`/api/v1/namespaces/${NS}/pods`, validPod("p")],
    [`/apis/apps/v1/namespaces/${NS}/deployments`, validDeployment("d")],
  ];
  for (const [path, obj] of objs) {
    const r = await api.json("POST", path, obj);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const meta = (r.body as { metadata: { name: string; resourceVersion: string; uid: string } }).metadata;
    if (path.includes(KEEP)) seeded.push({ path: `${path}/${meta.name}`, rv: meta.resourceVersion, uid: meta.uid });
  }
  // the namespace itself
  const ns = await api.json("GET", `/api/v1/namespaces/${KEEP}`);
  const nsMeta = (ns.body as { metadata: { resourceVersion: string; uid: string } }).metadata;
  seeded.push({ path: `/api/v1/namespaces/${KEEP}`, rv: nsMeta.resourceVersion, uid: nsMeta.uid });
});

afterAll(async () => {
  api?.close();
  await tug?.stop();
});

describe(`API fuzz (seed ${SEED})`, () => {
  it("answers every mutated request with a proper Status, never 5xx or a hang, and loses nothing", async () => {
    const findings: Finding[] = [];
    const statusCounts = new Map<number, number>();
    let sent = 0;
    let clientRefused = 0;
    let protocolRejected = 0;
    let calmResets = 0;
    let firstCalm: string | undefined;
    const deadline = Date.now() + TIME_CAP_MS;
    // a second client without credentials for a share of the requests
    const anon = new H2Client(tug.url, { ca: tug.caPem });

    const one = async (n: number): Promise<void> => {
      const req = generate(n);
      const client = chance(0.05) ? anon : api;
      let res: H2Response;
      const sessionErrorsBefore = client.sessionErrors;
      try {
        res = await client.request({
          method: req.method,
          path: req.path + (req.query ? `?${req.query}` : ""),
          headers: req.headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          timeoutMs: REQUEST_TIMEOUT_MS,
          stopAfterHeaders: (status) => req.watch && status < 300,
        });
      } catch (err) {
        if (err instanceof RequestTimeoutError) {
          findings.push({ req: describeReq(req), problem: "HANG: no response in time" });
        } else if (err instanceof Error && /ERR_HTTP2_INVALID|ERR_INVALID_HTTP_TOKEN|ERR_INVALID_CHAR|Invalid character|invalid header/i.test(`${"code" in err ? String(err.code) : ""} ${err.message}`)) {
          clientRefused++; // node's own client would not send it
        } else if (err instanceof Error && err.message.includes("NGHTTP2_PROTOCOL_ERROR") && !/^[\x21-\x7e]*$/.test(req.path)) {
          protocolRejected++; // a :path with spaces/controls/non-ASCII is not valid HTTP/2; a stream reset is right
        } else if (err instanceof Error && (err.message.includes("NGHTTP2_ENHANCE_YOUR_CALM") || client.sessionErrors > sessionErrorsBefore)) {
          // The server refused the session's streams (reported once below, with the count); streams
          // in flight on that session fail with it.
          calmResets++;
          if (firstCalm === undefined) firstCalm = describeReq(req);
        } else {
          findings.push({ req: describeReq(req), problem: `transport error: ${err instanceof Error ? err.message : String(err)}` });
        }
        return;
      }
      statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1);
      if (res.status === 504 && (req.method === "HEAD" || /ResourceVersionTooLarge/.test(res.body.toString("utf8")))) {
        // upstream's answer to a resourceVersion from the future: 504 Timeout after waiting for it
        return;
      }
      if (res.status >= 500) {
        findings.push({ req: describeReq(req), problem: `HTTP ${res.status}: ${res.body.toString("utf8").slice(0, 200)}` });
      } else if (res.status >= 400) {
        if (res.reset && res.status === 413) return; // body rejected early; stream reset after the 413 is fine
        const p = statusProblem(res, req.method);
        if (p !== undefined) findings.push({ req: describeReq(req), problem: `HTTP ${res.status}: ${p}` });
      } else if (res.status < 200) {
        findings.push({ req: describeReq(req), problem: `unexpected status ${res.status}` });
      }
    };

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < MAX_REQUESTS && Date.now() < deadline) {
        const n = next++;
        sent++;
        await one(n);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

    // a few bodies over the 3 MiB limit, in each encoding
    for (const [ct, body] of [
      ["application/json", JSON.stringify({ ...validConfigMap("huge"), data: { k: "x".repeat(3 * 1024 * 1024 + 10) } })],
      ["application/yaml", `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata: {k: "${"y".repeat(4 * 1024 * 1024)}"}\n`],
      [PROTO, Buffer.concat([Buffer.from(protoConfigMap("huge")), Buffer.alloc(3 * 1024 * 1024 + 1)])],
    ] as const) {
      sent++;
      // a fresh session each: nghttp2 may end a session that saw many reset streams (ENHANCE_YOUR_CALM)
      const big = new H2Client(tug.url, { ca: tug.caPem, cert: tug.certPem, key: tug.keyPem });
      let res: H2Response;
      try {
        res = await big.request({ method: "POST", path: `/api/v1/namespaces/${NS}/configmaps`, headers: { "content-type": ct, accept: "application/json" }, body, timeoutMs: REQUEST_TIMEOUT_MS });
      } catch (err) {
        findings.push({ req: `POST ${ct} body > 3 MiB`, problem: `transport error: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      } finally {
        big.close();
      }
      if (res.status !== 413) findings.push({ req: `POST ${ct} body > 3 MiB`, problem: `HTTP ${res.status} instead of 413: ${res.body.toString("utf8").slice(0, 200)}` });
      else if (!res.reset) {
        const p = statusProblem(res, "POST");
        if (p !== undefined) findings.push({ req: `POST ${ct} body > 3 MiB`, problem: p });
      }
    }
    anon.close();
    if (calmResets > 0) {
      findings.push({
        req: `first at ${firstCalm ?? "?"}`,
        problem: `the server refused streams with ENHANCE_YOUR_CALM (${api.goaways + anon.goaways} GOAWAYs, ${api.sessionErrors + anon.sessionErrors} session-level stream errors); ${calmResets} requests failed`,
      });
    }

    // the server is alive and answers
    expect(tug.child.exitCode, `server exited; stderr: ${tug.stderr()}`).toBeNull();
    const health = await new H2Client(tug.url, { ca: tug.caPem }).request({ path: "/healthz", timeoutMs: 5000 });
    expect(health.status).toBe(200);
    expect(health.body.toString()).toBe("ok");

    // nothing seeded was lost or changed
    const fresh = new H2Client(tug.url, { ca: tug.caPem, cert: tug.certPem, key: tug.keyPem });
    for (const s of seeded) {
      const r = await fresh.json("GET", s.path);
      expect(r.status, `${s.path}: ${JSON.stringify(r.body)}`).toBe(200);
      expect((r.body as { metadata: { resourceVersion: string; uid: string } }).metadata).toMatchObject({ resourceVersion: s.rv, uid: s.uid });
    }
    fresh.close();

    const summary = `seed ${SEED}: ${sent} requests, ${clientRefused} refused by the client, ${protocolRejected} reset as invalid HTTP/2, statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort((a, b) => a[0] - b[0])))}`;
    console.log(summary);
    if (findings.length > 0) {
      const report = join(tempDir("fuzz-report"), "findings.json");
      writeFileSync(report, JSON.stringify(findings, null, 1));
      console.log(`all ${findings.length} findings: ${report} (kept only with TUG_E2E_KEEP=1)`);
    }
    expect(sent).toBeGreaterThan(1000);
    expect(findings.slice(0, 25), `${summary}\n${findings.length} findings`).toEqual([]);
  }, TIME_CAP_MS + 60_000);
});
