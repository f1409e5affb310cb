/**
 * Checks every schema under proto/: each file parses and every type reference
 * resolves with protobufjs; `+tug:` markers are well formed; every
 * `+tug:kind` message has its `<Kind>List` (metadata ListMeta, repeated items
 * of the kind); field numbers and names are unique within a message; no two
 * kinds claim the same group/plural or apiVersion/kind.
 *
 * The marker scanner here is deliberately independent of the generator so a
 * generator bug and a schema bug cannot hide each other.
 */
import { describe, it, expect } from "vitest";
import protobuf from "protobufjs";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PROTO_DIR = resolve(fileURLToPath(new URL("../../proto", import.meta.url)));

/** Marker names a schema may use (see the proto conventions). */
const FILE_MARKERS = new Set(["groupVersion"]);
const MESSAGE_MARKERS = new Set(["kind", "body"]);
const FIELD_MARKERS = new Set(["keepZero", "patchStrategy", "patchMergeKey", "listType", "listMapKey", "json", "inline"]);

interface KindMarker {
  plural: string;
  singular: string;
  scope: "Namespaced" | "Cluster";
  shortNames: string[];
  categories: string[];
  subresources: string[];
}

const LOWER_NAME = /^[a-z][a-z0-9]*$/;
// Items may hold "-" (the CRD kind is in category "api-extensions").
const LIST_ITEM = /^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$/;

/** Parses the text after `+tug:kind`; throws an Error naming the problem. */
function parseKindMarker(text: string): KindMarker {
  const seen = new Map<string, string>();
  for (const part of text.trim().split(/\s+/).filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`kind marker: "${part}" is not key=value`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (!["plural", "singular", "scope", "shortNames", "categories", "subresources"].includes(key)) {
      throw new Error(`kind marker: unknown key "${key}"`);
    }
    if (seen.has(key)) throw new Error(`kind marker: key "${key}" given twice`);
    if (value === "") throw new Error(`kind marker: key "${key}" has an empty value (omit it instead)`);
    seen.set(key, value);
  }
  const plural = seen.get("plural");
  const singular = seen.get("singular");
  const scope = seen.get("scope");
  if (plural === undefined) throw new Error("kind marker: plural is required");
  if (singular === undefined) throw new Error("kind marker: singular is required");
  if (scope === undefined) throw new Error("kind marker: scope is required");
  if (!LOWER_NAME.test(plural)) throw new Error(`kind marker: plural "${plural}" must be lowercase letters and digits`);
  if (!LOWER_NAME.test(singular)) throw new Error(`kind marker: singular "${singular}" must be lowercase letters and digits`);
  if (scope !== "Namespaced" && scope !== "Cluster") {
    throw new Error(`kind marker: scope "${scope}" must be Namespaced or Cluster`);
  }
  const list = (key: string): string[] => {
    const raw = seen.get(key);
    if (raw === undefined) return [];
    const items = raw.split(",");
    for (const item of items) {
      if (!LIST_ITEM.test(item)) throw new Error(`kind marker: ${key} item "${item}" must be lowercase letters and digits`);
    }
    if (new Set(items).size !== items.length) throw new Error(`kind marker: ${key} has a duplicate item`);
    return items;
  };
  const subresources = list("subresources");
  return { plural, singular, scope, shortNames: list("shortNames"), categories: list("categories"), subresources };
}

interface ScannedField {
  name: string;
  markers: string[];
}
interface ScannedMessage {
  name: string;
  line: number;
  markers: string[];
  fields: ScannedField[];
}
interface ScannedFile {
  groupVersion?: string;
  messages: ScannedMessage[];
}

/**
 * Reads `+tug:` markers from a proto file's text. A marker belongs to the
 * message or field declared on the line right after its comment block.
 * Throws on markers outside any recognised position.
 */
function scanMarkers(text: string, file: string): ScannedFile {
  const out: ScannedFile = { messages: [] };
  let pending: { line: number; marker: string }[] = [];
  let current: ScannedMessage | undefined;
  let seenMessage = false;
  const lines = text.split("\n");
  const where = (n: number): string => `${file}:${n + 1}`;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    const comment = /^\/\/\s?(.*)$/.exec(line);
    if (comment) {
      const m = /^\+tug:(\S+?)(?:=(\S*)|\s+(.*))?$/.exec((comment[1] ?? "").trim());
      if (m) {
        const name = m[1] ?? "";
        if (FILE_MARKERS.has(name)) {
          if (seenMessage) throw new Error(`${where(i)}: +tug:${name} must come before the first message`);
          if (out.groupVersion !== undefined) throw new Error(`${where(i)}: +tug:groupVersion given twice`);
          const gv = m[2] ?? "";
          if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(gv)) {
            throw new Error(`${where(i)}: +tug:groupVersion "${gv}" is not group/version or version`);
          }
          out.groupVersion = gv;
        } else {
          pending.push({ line: i, marker: (comment[1] ?? "").trim().slice("+tug:".length) });
        }
      } else if (/^\+tug/.test((comment[1] ?? "").trim())) {
        throw new Error(`${where(i)}: malformed marker "${(comment[1] ?? "").trim()}"`);
      }
      continue;
    }
    const msg = /^message\s+(\w+)\s*\{/.exec(line);
    if (msg) {
      if (current) throw new Error(`${where(i)}: nested messages are not used in our schemas`);
      seenMessage = true;
      for (const p of pending) {
        const name = /^(\w+)/.exec(p.marker)?.[1] ?? "";
        if (!MESSAGE_MARKERS.has(name)) throw new Error(`${where(p.line)}: +tug:${name} does not belong on a message`);
      }
      current = { name: msg[1] ?? "", line: i + 1, markers: pending.map((p) => p.marker), fields: [] };
      pending = [];
      continue;
    }
    const field = /^(?:optional|repeated|required)?\s*(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+/.exec(line);
    if (field && current) {
      for (const p of pending) {
        const name = /^(\w+)/.exec(p.marker)?.[1] ?? "";
        if (!FIELD_MARKERS.has(name)) throw new Error(`${where(p.line)}: +tug:${name} does not belong on a field`);
      }
      current.fields.push({ name: field[1] ?? "", markers: pending.map((p) => p.marker) });
      pending = [];
      continue;
    }
    if (line === "}" && current) {
      out.messages.push(current);
      current = undefined;
    }
    if (pending.length > 0 && line !== "") {
      throw new Error(`${where(pending[0]?.line ?? i)}: marker is not directly above a message or field`);
    }
    if (line === "" && pending.length > 0) {
      throw new Error(`${where(pending[0]?.line ?? i)}: marker is separated from its message or field by a blank line`);
    }
  }
  if (pending.length > 0) throw new Error(`${file}: marker at end of file belongs to nothing`);
  return out;
}

/** Checks one field marker's value; returns a problem or undefined. */
function checkFieldMarker(marker: string): string | undefined {
  const m = /^(\w+)(?:=(.*))?$/.exec(marker);
  if (!m) return `malformed field marker "${marker}"`;
  const [, name, value] = m;
  switch (name) {
    case "keepZero":
    case "inline":
      return value === undefined ? undefined : `+tug:${name} takes no value`;
    case "patchStrategy":
      return value !== undefined && /^(merge|replace|retainKeys)(,(merge|replace|retainKeys))*$/.test(value)
        ? undefined
        : `+tug:patchStrategy "${value ?? ""}" must be merge, replace, retainKeys or a comma list of them`;
    case "listType":
      return value === "map" || value === "set" || value === "atomic" ? undefined : `+tug:listType "${value ?? ""}" must be map, set or atomic`;
    case "json":
      // "-" means the field has no JSON form (Go's json:"-").
      if (value === "-") return undefined;
      // JSON names may be `$ref` / `$schema` and `x-kubernetes-*` (apiextensions JSONSchemaProps).
      return value !== undefined && /^(\$?[A-Za-z][A-Za-z0-9]*|x(-[a-z]+)+)$/.test(value) ? undefined : `+tug:json needs a field name or -`;
    case "patchMergeKey":
    case "listMapKey":
      return value !== undefined && /^[A-Za-z][A-Za-z0-9]*$/.test(value) ? undefined : `+tug:${name} needs a field name`;
    default:
      return `unknown field marker "+tug:${name}"`;
  }
}

function listProtoFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 20) throw new Error(`proto tree too deep at ${d}`);
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (name.endsWith(".proto")) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

/** Loads files with imports rooted at `dir`, then resolves every type reference. */
function loadRoot(dir: string, files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => (isAbsolute(target) ? target : join(dir, target));
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}

function lookupMessage(root: protobuf.Root, fqName: string): protobuf.Type | undefined {
  const found = root.lookup(fqName);
  return found instanceof protobuf.Type ? found : undefined;
}

/** Cross-checks markers against the loaded schema; returns every problem found. */
function checkSchema(root: protobuf.Root, scanned: Map<string, { pkg: string; file: ScannedFile }>): string[] {
  const problems: string[] = [];
  const byResource = new Map<string, string>();
  const byGvk = new Map<string, string>();
  for (const [file, { pkg, file: s }] of scanned) {
    for (const msg of s.messages) {
      const fq = `${pkg}.${msg.name}`;
      const type = lookupMessage(root, fq);
      if (!type) {
        problems.push(`${file}: message ${msg.name} not found as ${fq}`);
        continue;
      }
      const ids = new Map<number, string>();
      for (const f of type.fieldsArray) {
        const prev = ids.get(f.id);
        if (prev !== undefined) problems.push(`${fq}: field number ${f.id} used by ${prev} and ${f.name}`);
        ids.set(f.id, f.name);
      }
      for (const f of msg.fields) {
        for (const m of f.markers) {
          const p = checkFieldMarker(m);
          if (p) problems.push(`${fq}.${f.name}: ${p}`);
        }
        const field = type.fields[f.name];
        if (!field) continue;
        const has = (name: string): boolean => f.markers.some((m) => m === name || m.startsWith(`${name}=`));
        // keepZero on a repeated field is read as "keep an empty list" (meta.v1 Table uses it that way).
        if (has("keepZero") && !field.repeated && !field.map && field.resolvedType instanceof protobuf.Type) {
          problems.push(`${fq}.${f.name}: +tug:keepZero does not apply to a message field`);
        }
        if ((has("listType") || has("listMapKey")) && !field.repeated) {
          problems.push(`${fq}.${f.name}: +tug:listType/listMapKey only apply to a repeated field`);
        }
        if (has("listMapKey") && !f.markers.includes("listType=map")) {
          problems.push(`${fq}.${f.name}: +tug:listMapKey needs +tug:listType=map`);
        }
        if (has("patchMergeKey") && !f.markers.some((m) => /^patchStrategy=.*merge/.test(m))) {
          problems.push(`${fq}.${f.name}: +tug:patchMergeKey needs +tug:patchStrategy=merge`);
        }
      }
      const kinds = msg.markers.filter((m) => m === "kind" || m.startsWith("kind "));
      const bodies = msg.markers.filter((m) => m === "body" || m.startsWith("body "));
      if (kinds.length + bodies.length > 1) problems.push(`${fq}: more than one +tug:kind/+tug:body marker`);
      for (const b of bodies) {
        const rest = b.slice("body".length).trim();
        if (rest === "") {
          if (s.groupVersion === undefined) problems.push(`${fq}: +tug:body in a file without +tug:groupVersion needs apiVersions=`);
        } else if (!/^apiVersions=[a-z0-9./-]+(,[a-z0-9./-]+)*$/.test(rest)) {
          problems.push(`${fq}: +tug:body "${rest}" must be empty or apiVersions=<list>`);
        }
      }
      for (const k of kinds) {
        let marker: KindMarker;
        try {
          marker = parseKindMarker(k.slice("kind".length));
        } catch (e) {
          problems.push(`${fq}: ${(e as Error).message}`);
          continue;
        }
        if (s.groupVersion === undefined) {
          problems.push(`${fq}: +tug:kind in a file without +tug:groupVersion`);
          continue;
        }
        const group = s.groupVersion.includes("/") ? s.groupVersion.split("/")[0] ?? "" : "";
        const resKey = `${group}/${marker.plural}@${s.groupVersion}`;
        const gvk = `${s.groupVersion}/${msg.name}`;
        if (byResource.has(resKey)) problems.push(`${fq}: resource ${resKey} also declared by ${byResource.get(resKey) ?? ""}`);
        if (byGvk.has(gvk)) problems.push(`${fq}: ${gvk} also declared by ${byGvk.get(gvk) ?? ""}`);
        byResource.set(resKey, fq);
        byGvk.set(gvk, fq);
        const meta = type.fields["metadata"];
        if (!meta || meta.resolvedType?.fullName !== ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta") {
          problems.push(`${fq}: a kind needs metadata of type meta.v1.ObjectMeta`);
        }
        const list = lookupMessage(root, `${fq}List`);
        if (!list) {
          problems.push(`${fq}: kind has no ${msg.name}List message`);
          continue;
        }
        const items = list.fields["items"];
        if (!items || !items.repeated || items.resolvedType !== type) {
          problems.push(`${fq}List: needs "repeated ${msg.name} items"`);
        }
        const listMeta = list.fields["metadata"];
        if (!listMeta || listMeta.resolvedType?.fullName !== ".k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta") {
          problems.push(`${fq}List: needs metadata of type meta.v1.ListMeta`);
        }
      }
    }
  }
  return problems;
}

function scanAll(dir: string, files: string[]): Map<string, { pkg: string; file: ScannedFile }> {
  const out = new Map<string, { pkg: string; file: ScannedFile }>();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    const pkg = /^package\s+([\w.]+)\s*;/m.exec(text)?.[1];
    if (pkg === undefined) throw new Error(`${relative(dir, f)}: no package statement`);
    out.set(relative(dir, f), { pkg, file: scanMarkers(text, relative(dir, f)) });
  }
  return out;
}

describe("proto schemas under proto/", () => {
  const files = listProtoFiles(PROTO_DIR);

  it("finds schema files, one types.proto per Go package", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(relative(PROTO_DIR, f)).toMatch(/^k8s\.io\/[a-z0-9./-]+\/types\.proto$/);
  });

  it("declare the package that matches their path", () => {
    for (const f of files) {
      const rel = relative(PROTO_DIR, f);
      const pkg = /^package\s+([\w.]+)\s*;/m.exec(readFileSync(f, "utf8"))?.[1];
      // Go module paths may hold "-" (apiextensions-apiserver); proto packages spell it "_".
      expect(pkg, rel).toBe(rel.replace(/\/types\.proto$/, "").replace(/\//g, ".").replace(/-/g, "_"));
    }
  });

  it("all parse, resolve and pass the marker checks", () => {
    const root = loadRoot(PROTO_DIR, files);
    const problems = checkSchema(root, scanAll(PROTO_DIR, files));
    expect(problems).toEqual([]);
  });

  it("declare the non-core kinds issue 2 needs", () => {
    const scanned = scanAll(PROTO_DIR, files);
    const kinds = new Set<string>();
    for (const { file } of scanned.values()) {
      for (const m of file.messages) {
        if (m.markers.some((k) => k.startsWith("kind ") || k.startsWith("body"))) kinds.add(`${file.groupVersion ?? "?"}/${m.name}`);
      }
    }
    const want = [
      "apps/v1/Deployment", "apps/v1/ReplicaSet", "apps/v1/DaemonSet", "apps/v1/StatefulSet", "apps/v1/ControllerRevision",
      "batch/v1/Job", "batch/v1/CronJob", "coordination.k8s.io/v1/Lease", "discovery.k8s.io/v1/EndpointSlice",
      "networking.k8s.io/v1/Ingress", "networking.k8s.io/v1/IngressClass", "networking.k8s.io/v1/NetworkPolicy",
      "rbac.authorization.k8s.io/v1/Role", "rbac.authorization.k8s.io/v1/ClusterRole",
      "rbac.authorization.k8s.io/v1/RoleBinding", "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
      "autoscaling/v1/Scale", "autoscaling/v2/HorizontalPodAutoscaler", "policy/v1/PodDisruptionBudget",
      "policy/v1/Eviction", "scheduling.k8s.io/v1/PriorityClass", "events.k8s.io/v1/Event",
    ];
    for (const w of want) expect(kinds.has(w), w).toBe(true);
  });
});

describe("parseKindMarker", () => {
  it("reads a full marker", () => {
    expect(parseKindMarker(" plural=deployments singular=deployment scope=Namespaced shortNames=deploy categories=all subresources=status,scale")).toEqual({
      plural: "deployments", singular: "deployment", scope: "Namespaced",
      shortNames: ["deploy"], categories: ["all"], subresources: ["status", "scale"],
    });
  });
  it("defaults the optional lists to empty", () => {
    expect(parseKindMarker("plural=leases singular=lease scope=Cluster").shortNames).toEqual([]);
  });
  it.each([
    ["singular=x scope=Cluster", "plural is required"],
    ["plural=xs scope=Cluster", "singular is required"],
    ["plural=xs singular=x", "scope is required"],
    ["plural=xs singular=x scope=namespaced", 'scope "namespaced" must be Namespaced or Cluster'],
    ["plural=Xs singular=x scope=Cluster", 'plural "Xs" must be lowercase'],
    ["plural=xs singular=x scope=Cluster color=red", 'unknown key "color"'],
    ["plural=xs plural=ys singular=x scope=Cluster", 'key "plural" given twice'],
    ["plural=xs singular=x scope=Cluster shortNames=", 'key "shortNames" has an empty value'],
    ["plural=xs singular=x scope=Cluster shortNames=a,,b", 'shortNames item ""'],
    ["plural=xs singular=x scope=Cluster subresources=status,status", "subresources has a duplicate item"],
    ["plural=xs singular=x scope=Cluster subresources=Status", 'subresources item "Status" must be lowercase'],
    ["plural=xs singular=x scope=Cluster stray", '"stray" is not key=value'],
  ])("rejects %j", (text, message) => {
    expect(() => parseKindMarker(text)).toThrow(message);
  });
});

describe("scanMarkers", () => {
  const head = 'syntax = "proto2";\npackage t.v1;\n// +tug:groupVersion=t.example.com/v1\n';
  it("attaches markers to messages and fields", () => {
    const s = scanMarkers(`${head}// A thing.\n// +tug:kind plural=things singular=thing scope=Cluster\nmessage Thing {\n  // +tug:keepZero\n  optional int32 n = 1;\n}\n`, "t.proto");
    expect(s.groupVersion).toBe("t.example.com/v1");
    expect(s.messages).toEqual([{ name: "Thing", line: 6, markers: ["kind plural=things singular=thing scope=Cluster"], fields: [{ name: "n", markers: ["keepZero"] }] }]);
  });
  it.each([
    ["// +tug:groupVersion=v1\n// +tug:groupVersion=v1\n", "+tug:groupVersion given twice"],
    ["// +tug:groupVersion=Apps/V1\n", 'is not group/version or version'],
    ["message A {\n}\n// +tug:groupVersion=v1\n", "must come before the first message"],
    ["// +tug:keepZero\nmessage A {\n}\n", "+tug:keepZero does not belong on a message"],
    ["message A {\n  // +tug:kind plural=as singular=a scope=Cluster\n  optional int32 n = 1;\n}\n", "+tug:kind does not belong on a field"],
    ["// +tug:body\n\nmessage A {\n}\n", "separated from its message or field by a blank line"],
    ["message A {\n}\n// +tug:keepZero", "marker at end of file belongs to nothing"],
    ["// +tug: kind\nmessage A {\n}\n", "malformed marker"],
  ])("rejects %j", (text, message) => {
    expect(() => scanMarkers(text, "bad.proto")).toThrow(message);
  });
});

describe("checkFieldMarker", () => {
  it.each(["keepZero", "inline", "patchStrategy=merge", "patchStrategy=merge,retainKeys", "patchMergeKey=name", "listType=map", "listMapKey=containerPort", "json=apiGroup", "json=-"])(
    "accepts %s", (m) => expect(checkFieldMarker(m)).toBeUndefined(),
  );
  it.each([
    ["keepZero=yes", "takes no value"],
    ["patchStrategy=squash", "must be merge, replace, retainKeys"],
    ["listType=list", "must be map, set or atomic"],
    ["listMapKey=", "needs a field name"],
    ["frobnicate", 'unknown field marker "+tug:frobnicate"'],
  ])("rejects %s", (m, message) => expect(checkFieldMarker(m)).toContain(message));
});

describe("checkSchema", () => {
  const meta = `syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;
message ObjectMeta { optional string name = 1; }
message ListMeta { optional string resourceVersion = 2; }
`;
  /** Builds a root from in-memory sources (keyed by import path) and checks it. */
  const check = (body: string): string[] => {
    const sources: Record<string, string> = { "meta.proto": meta, "t.proto": body };
    const root = new protobuf.Root();
    root.resolvePath = (_o: string, t: string): string => t;
    for (const text of Object.values(sources)) protobuf.parse(text, root, { keepCase: true });
    root.resolveAll();
    const pkg = /^package\s+([\w.]+)\s*;/m.exec(body)?.[1] ?? "";
    return checkSchema(root, new Map([["t.proto", { pkg, file: scanMarkers(body, "t.proto") }]]));
  };
  const head = 'syntax = "proto2";\npackage t.v1;\n// +tug:groupVersion=t.example.com/v1\n';
  const obj = "optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;";
  const lmeta = "optional .k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;";

  it("accepts a kind with its list", () => {
    expect(check(`${head}// +tug:kind plural=things singular=thing scope=Cluster\nmessage Thing {\n  ${obj}\n}\nmessage ThingList {\n  ${lmeta}\n  repeated Thing items = 2;\n}\n`)).toEqual([]);
  });
  it("reports a kind without a List message", () => {
    expect(check(`${head}// +tug:kind plural=things singular=thing scope=Cluster\nmessage Thing {\n  ${obj}\n}\n`)).toEqual(["t.v1.Thing: kind has no ThingList message"]);
  });
  it("reports a List whose items are not the kind", () => {
    expect(check(`${head}// +tug:kind plural=things singular=thing scope=Cluster\nmessage Thing {\n  ${obj}\n}\nmessage ThingList {\n  ${lmeta}\n  optional Thing items = 2;\n}\n`)).toEqual(['t.v1.ThingList: needs "repeated Thing items"']);
  });
  it("reports a kind without ObjectMeta and a list without ListMeta", () => {
    expect(check(`${head}// +tug:kind plural=things singular=thing scope=Cluster\nmessage Thing {\n  optional string metadata = 1;\n}\nmessage ThingList {\n  repeated Thing items = 2;\n}\n`)).toEqual([
      "t.v1.Thing: a kind needs metadata of type meta.v1.ObjectMeta",
      "t.v1.ThingList: needs metadata of type meta.v1.ListMeta",
    ]);
  });
  it("reports a bad kind marker and a bad field marker", () => {
    expect(check(`${head}// +tug:kind plural=things scope=Cluster\nmessage Thing {\n  // +tug:listType=list\n  repeated string n = 1;\n}\n`)).toEqual([
      't.v1.Thing.n: +tug:listType "list" must be map, set or atomic',
      "t.v1.Thing: kind marker: singular is required",
    ]);
  });
  it("reports field markers on fields they cannot apply to", () => {
    expect(check(`${head}message A {\n  // +tug:keepZero\n  optional A a = 1;\n  // +tug:listType=atomic\n  optional int32 b = 2;\n  // +tug:listType=atomic\n  // +tug:listMapKey=name\n  repeated A c = 3;\n  // +tug:patchMergeKey=name\n  repeated A d = 4;\n}\n`)).toEqual([
      "t.v1.A.a: +tug:keepZero does not apply to a message field",
      "t.v1.A.b: +tug:listType/listMapKey only apply to a repeated field",
      "t.v1.A.c: +tug:listMapKey needs +tug:listType=map",
      "t.v1.A.d: +tug:patchMergeKey needs +tug:patchStrategy=merge",
    ]);
  });
  it("reports two kinds claiming one resource", () => {
    const k = (n: string): string => `// +tug:kind plural=things singular=thing scope=Cluster\nmessage ${n} {\n  ${obj}\n}\nmessage ${n}List {\n  ${lmeta}\n  repeated ${n} items = 2;\n}\n`;
    expect(check(`${head}${k("Thing")}${k("Other")}`)).toEqual(["t.v1.Other: resource t.example.com/things@t.example.com/v1 also declared by t.v1.Thing"]);
  });
  it("reports a body without apiVersions outside a group file", () => {
    expect(check('syntax = "proto2";\npackage t.v1;\n// +tug:body\nmessage B {\n  optional string x = 1;\n}\n')).toEqual([
      "t.v1.B: +tug:body in a file without +tug:groupVersion needs apiVersions=",
    ]);
  });
  it("fails loudly on a duplicate field number (protobufjs refuses it)", () => {
    expect(() => check(`${head}message A {\n  optional int32 a = 1;\n  optional int32 b = 1;\n}\n`)).toThrow(/duplicate id 1/);
  });
  it("fails loudly on an unresolvable type", () => {
    expect(() => check(`${head}message A {\n  optional Missing a = 1;\n}\n`)).toThrow(/no such Type or Enum 'Missing'/);
  });
});
