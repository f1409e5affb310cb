/**
 * The gnostic encoding, decoded by an independent decoder (protobufjs) from a subset of
 * gnostic-models' OpenAPIv2.proto (same field numbers), and compared with the JSON document.
 */
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Writer } from "../../api/codec/writer.ts";
import { MESSAGES } from "../../api/generated/schema.ts";
import { allKinds } from "../../api/registry.ts";
import { encodeGnosticDocument, writeSchema } from "./gnostic.ts";
import { swaggerDocument } from "./v2.ts";

const PROTO = `
syntax = "proto3";
package openapi.v2;
message Any { string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }
message Info { string title = 1; string version = 2; }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message Definitions { repeated NamedSchema additional_properties = 1; }
message Schema {
  string _ref = 1; string format = 2; string description = 4; bool unique_items = 16; repeated string required = 19;
  AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23;
  repeated Schema all_of = 24; Properties properties = 25; repeated NamedAny vendor_extension = 31;
}
message QueryParameterSubSchema { bool required = 1; string in = 2; string description = 3; string name = 4; string type = 6; bool unique_items = 20; }
message PathParameterSubSchema { bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; bool unique_items = 19; }
message NonBodyParameter { oneof oneof { QueryParameterSubSchema query_parameter_sub_schema = 3; PathParameterSubSchema path_parameter_sub_schema = 4; } }
message BodyParameter { string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5; }
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message ParametersItem { oneof oneof { Parameter parameter = 1; } }
message SchemaItem { oneof oneof { Schema schema = 1; } }
message Response { string description = 1; SchemaItem schema = 2; }
message ResponseValue { oneof oneof { Response response = 1; } }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message Responses { repeated NamedResponseValue response_code = 1; }
message Operation {
  repeated string tags = 1; string description = 3; string operation_id = 5; repeated string produces = 6;
  repeated string consumes = 7; repeated ParametersItem parameters = 8; Responses responses = 9;
  repeated string schemes = 10; repeated NamedAny vendor_extension = 13;
}
message PathItem { Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5; Operation patch = 8; repeated ParametersItem parameters = 9; }
message NamedPathItem { string name = 1; PathItem value = 2; }
message Paths { repeated NamedPathItem path = 2; }
message Document { string swagger = 1; Info info = 2; Paths paths = 8; Definitions definitions = 9; }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const Document = root.lookupType("openapi.v2.Document");
const Schema = root.lookupType("openapi.v2.Schema");

type Json = Record<string, unknown>;

function decode(t: protobuf.Type, bytes: Uint8Array): Json {
  const m = t.decode(bytes);
  return t.toObject(m, { defaults: false, arrays: true, oneofs: false }) as Json; // toObject returns a plain object keyed by proto field names
}

function get(v: unknown, ...path: Array<string | number>): unknown {
  let cur = v;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[k]; // walking decoded protobuf objects of known shape
  }
  return cur;
}

function list(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new Error(`not a list: ${JSON.stringify(v)?.slice(0, 100)}`);
  return v;
}

function named(list: unknown, name: string): unknown {
  if (!Array.isArray(list)) return undefined;
  return list.find((e: unknown) => get(e, "name") === name);
}

function extensionsOf(v: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const list = get(v, "vendor_extension");
  for (const e of Array.isArray(list) ? list : []) out[String(get(e, "name"))] = parseYaml(String(get(e, "value", "yaml")));
  return out;
}

describe("gnostic openapi_v2.Document encoding", () => {
  const json = swaggerDocument(allKinds(), "v1.32.0");
  const doc = decode(Document, encodeGnosticDocument(json));

  it("carries the header, every path and every definition", () => {
    expect(doc["swagger"]).toBe("2.0");
    expect(get(doc, "info", "title")).toBe("Kubernetes");
    expect(get(doc, "info", "version")).toBe("v1.32.0");
    const paths = list(get(doc, "paths", "path"));
    expect(paths.map((p) => get(p, "name"))).toEqual(Object.keys(json.paths));
    const defs = list(get(doc, "definitions", "additional_properties"));
    expect(defs.map((d) => get(d, "name"))).toEqual(Object.keys(json.definitions));
  });

  it("encodes the Deployment definition with its GVK list and merge keys", () => {
    const defs = get(doc, "definitions", "additional_properties");
    const dep = get(named(defs, "io.k8s.api.apps.v1.Deployment"), "value");
    expect(get(dep, "type", "value")).toEqual(["object"]);
    expect(extensionsOf(dep)["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    const spec = get(named(get(dep, "properties", "additional_properties"), "spec"), "value");
    expect(get(spec, "_ref")).toBe("#/definitions/io.k8s.api.apps.v1.DeploymentSpec");
    const podSpec = get(named(defs, "io.k8s.api.core.v1.PodSpec"), "value");
    expect(get(podSpec, "required")).toEqual(["containers"]);
    const containers = get(named(get(podSpec, "properties", "additional_properties"), "containers"), "value");
    expect(get(containers, "type", "value")).toEqual(["array"]);
    expect(get(containers, "items", "schema", 0, "_ref")).toBe("#/definitions/io.k8s.api.core.v1.Container");
    expect(extensionsOf(containers)).toMatchObject({
      "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-map-keys": ["name"],
    });
    const meta = get(named(defs, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"), "value");
    const labels = get(named(get(meta, "properties", "additional_properties"), "labels"), "value");
    expect(get(labels, "additional_properties", "schema", "type", "value")).toEqual(["string"]);
  });

  it("carries descriptions of definitions and of properties, beside $ref too", () => {
    const defs = get(doc, "definitions", "additional_properties");
    const spec = get(named(defs, "io.k8s.api.apps.v1.DeploymentSpec"), "value");
    const text = MESSAGES["k8s.io.api.apps.v1.DeploymentSpec"]?.fields.find((f) => f.json === "strategy")?.description;
    expect(text).toMatch(/\S/);
    expect(get(spec, "description")).toBe(MESSAGES["k8s.io.api.apps.v1.DeploymentSpec"]?.description);
    const strategy = get(named(get(spec, "properties", "additional_properties"), "strategy"), "value");
    expect(get(strategy, "_ref")).toBe("#/definitions/io.k8s.api.apps.v1.DeploymentStrategy");
    expect(get(strategy, "description")).toBe(text);
    expect(extensionsOf(strategy)).toEqual({ "x-kubernetes-patch-strategy": "retainKeys" });
    const container = get(named(defs, "io.k8s.api.core.v1.Container"), "value");
    const image = get(named(get(container, "properties", "additional_properties"), "image"), "value");
    expect(get(image, "description")).toBe(json.definitions["io.k8s.api.core.v1.Container"]?.properties?.["image"]?.description);
    expect(get(image, "description")).toMatch(/image/i);
  });

  it("encodes the PATCH operation's GVK and fieldValidation query parameter", () => {
    const item = get(named(get(doc, "paths", "path"), "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"), "value");
    const patch = get(item, "patch");
    const gvk = extensionsOf(patch)["x-kubernetes-group-version-kind"];
    expect(gvk).toEqual({ group: "apps", kind: "Deployment", version: "v1" });
    const params = list(get(patch, "parameters"));
    const query = params.map((p) => get(p, "parameter", "non_body_parameter", "query_parameter_sub_schema")).filter((q) => q !== undefined);
    expect(query.map((q) => get(q, "name"))).toEqual(["dryRun", "fieldManager", "fieldValidation", "force"]);
    expect(get(query[2], "in")).toBe("query");
    expect(get(params[0], "parameter", "body_parameter", "schema", "_ref")).toBe("#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
    expect(get(patch, "consumes")).toContain("application/strategic-merge-patch+json");
    const pathParams = list(get(item, "parameters")).map((p) => get(p, "parameter", "non_body_parameter", "path_parameter_sub_schema"));
    expect(pathParams.filter((p) => p !== undefined).map((p) => [get(p, "name"), get(p, "required")])).toEqual([["namespace", true], ["name", true]]);
    const ok = named(get(patch, "responses", "response_code"), "200");
    expect(get(ok, "value", "response", "schema", "schema", "_ref")).toBe("#/definitions/io.k8s.api.apps.v1.Deployment");
  });

  it("writes lengths above one varint byte correctly (large nested messages)", () => {
    const w = new Writer(16);
    const props: Record<string, { type: string }> = {};
    for (let i = 0; i < 400; i++) props[`f${i}`] = { type: "string" };
    writeSchema(w, { type: "object", description: "x".repeat(300), properties: props });
    const s = decode(Schema, w.finish());
    expect(get(s, "description")).toBe("x".repeat(300));
    expect(list(get(s, "properties", "additional_properties")).length).toBe(400);
  });

  it("rejects a schema that has no Swagger 2.0 form", () => {
    expect(() => writeSchema(new Writer(), { oneOf: [{ type: "string" }] })).toThrow(/oneOf has no Swagger 2.0 form/);
  });
});
