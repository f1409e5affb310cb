/**
 * Encodes a `V2Document` as a gnostic `openapi_v2.Document` protobuf — what kubectl's
 * `OpenAPISchema()` unmarshals from `/openapi/v2` (it never looks at the Content-Type, so JSON
 * there fails). Only the messages and fields the document uses are written. Field numbers are
 * those of github.com/google/gnostic-models openapiv2/OpenAPIv2.proto:
 *
 *   Document: 1 swagger, 2 info, 6 consumes, 7 produces, 8 paths, 9 definitions
 *   Info: 1 title, 2 version
 *   Paths: 2 path (NamedPathItem: 1 name, 2 value)
 *   PathItem: 2 get, 3 put, 4 post, 5 delete, 8 patch, 9 parameters
 *   Operation: 1 tags, 3 description, 5 operation_id, 6 produces, 7 consumes, 8 parameters,
 *              9 responses, 10 schemes, 13 vendor_extension
 *   ParametersItem: 1 parameter; Parameter: 1 body_parameter, 2 non_body_parameter
 *   BodyParameter: 1 description, 2 name, 3 in, 4 required, 5 schema
 *   NonBodyParameter: 3 query_parameter_sub_schema, 4 path_parameter_sub_schema
 *   QueryParameterSubSchema: 1 required, 2 in, 3 description, 4 name, 6 type, 20 unique_items
 *   PathParameterSubSchema:  1 required, 2 in, 3 description, 4 name, 5 type, 19 unique_items
 *   Responses: 1 response_code (NamedResponseValue: 1 name, 2 value)
 *   ResponseValue: 1 response; Response: 1 description, 2 schema (SchemaItem: 1 schema)
 *   Definitions / Properties: 1 additional_properties (NamedSchema: 1 name, 2 value)
 *   Schema: 1 _ref, 2 format, 4 description, 16 unique_items, 19 required,
 *           21 additional_properties (AdditionalPropertiesItem: 1 schema), 22 type (TypeItem: 1 value),
 *           23 items (ItemsItem: 1 schema), 24 all_of, 25 properties, 31 vendor_extension
 *   NamedAny: 1 name, 2 value (Any: 2 yaml)
 *
 * Vendor extension values are YAML text; we write JSON, which YAML parsers read as flow style.
 */
import { Writer } from "../../api/codec/writer.ts";
import type { JsonSchema } from "./schemas.ts";
import type { V2Document, V2Operation, V2Parameter, V2PathItem, V2Response } from "./v2.ts";

const LEN = 2;
const VARINT = 0;

function tag(w: Writer, field: number, wire: number): void {
  w.uint32((field << 3) | wire);
}

function str(w: Writer, field: number, v: string | undefined): void {
  if (v === undefined || v === "") return;
  tag(w, field, LEN);
  w.string(v);
}

function strs(w: Writer, field: number, vs: readonly string[] | undefined): void {
  for (const v of vs ?? []) {
    tag(w, field, LEN);
    w.string(v);
  }
}

function bool(w: Writer, field: number, v: boolean | undefined): void {
  if (v !== true) return;
  tag(w, field, VARINT);
  w.bool(true);
}

/** Writes a length-delimited sub-message produced by `body`. */
function msg(w: Writer, field: number, body: () => void): void {
  tag(w, field, LEN);
  const start = w.fork();
  body();
  w.ldelim(start);
}

function namedAny(w: Writer, field: number, name: string, value: unknown): void {
  msg(w, field, () => {
    str(w, 1, name);
    msg(w, 2, () => str(w, 2, JSON.stringify(value) + "\n"));
  });
}

/** `x-…` keys of an object, in insertion order. */
function extensions(o: object): Array<[string, unknown]> {
  return Object.entries(o).filter(([k]) => k.startsWith("x-"));
}

export function writeSchema(w: Writer, s: JsonSchema): void {
  if (s.oneOf !== undefined) throw new Error("openapi v2: oneOf has no Swagger 2.0 form");
  str(w, 1, s.$ref);
  str(w, 2, s.format);
  str(w, 4, s.description);
  strs(w, 19, s.required);
  if (s.additionalProperties !== undefined) {
    const ap = s.additionalProperties;
    msg(w, 21, () => msg(w, 1, () => writeSchema(w, ap)));
  }
  if (s.type !== undefined) {
    const t = s.type;
    msg(w, 22, () => strs(w, 1, [t]));
  }
  if (s.items !== undefined) {
    const items = s.items;
    msg(w, 23, () => msg(w, 1, () => writeSchema(w, items)));
  }
  for (const sub of s.allOf ?? []) msg(w, 24, () => writeSchema(w, sub));
  if (s.properties !== undefined) {
    const props = s.properties;
    msg(w, 25, () => {
      for (const [name, value] of Object.entries(props)) {
        msg(w, 1, () => {
          str(w, 1, name);
          msg(w, 2, () => writeSchema(w, value));
        });
      }
    });
  }
  for (const [k, v] of extensions(s)) namedAny(w, 31, k, v);
}

function writeParameter(w: Writer, p: V2Parameter): void {
  // ParametersItem.parameter
  msg(w, 1, () => {
    if (p.in === "body") {
      msg(w, 1, () => {
        str(w, 1, p.description);
        str(w, 2, p.name);
        str(w, 3, p.in);
        bool(w, 4, p.required);
        if (p.schema !== undefined) {
          const s = p.schema;
          msg(w, 5, () => writeSchema(w, s));
        }
      });
      return;
    }
    msg(w, 2, () => {
      const query = p.in === "query";
      msg(w, query ? 3 : 4, () => {
        bool(w, 1, p.required);
        str(w, 2, p.in);
        str(w, 3, p.description);
        str(w, 4, p.name);
        str(w, query ? 6 : 5, p.type);
        bool(w, query ? 20 : 19, p.uniqueItems);
      });
    });
  });
}

function writeResponse(w: Writer, r: V2Response): void {
  // ResponseValue.response
  msg(w, 1, () => {
    str(w, 1, r.description);
    if (r.schema !== undefined) {
      const s = r.schema;
      msg(w, 2, () => msg(w, 1, () => writeSchema(w, s)));
    }
  });
}

function writeOperation(w: Writer, o: V2Operation): void {
  strs(w, 1, o.tags);
  str(w, 3, o.description);
  str(w, 5, o.operationId);
  strs(w, 6, o.produces);
  strs(w, 7, o.consumes);
  for (const p of o.parameters) msg(w, 8, () => writeParameter(w, p));
  msg(w, 9, () => {
    for (const [code, r] of Object.entries(o.responses)) {
      msg(w, 1, () => {
        str(w, 1, code);
        msg(w, 2, () => writeResponse(w, r));
      });
    }
  });
  strs(w, 10, o.schemes);
  for (const [k, v] of extensions(o)) namedAny(w, 13, k, v);
}

const METHOD_FIELDS: ReadonlyArray<readonly ["get" | "put" | "post" | "delete" | "patch", number]> = [
  ["get", 2], ["put", 3], ["post", 4], ["delete", 5], ["patch", 8],
];

function writePathItem(w: Writer, item: V2PathItem): void {
  for (const [method, field] of METHOD_FIELDS) {
    const op = item[method];
    if (op !== undefined) msg(w, field, () => writeOperation(w, op));
  }
  for (const p of item.parameters) msg(w, 9, () => writeParameter(w, p));
}

/** The gnostic `openapi_v2.Document` bytes of `doc`. */
export function encodeGnosticDocument(doc: V2Document): Uint8Array {
  const w = new Writer(1 << 20);
  str(w, 1, doc.swagger);
  msg(w, 2, () => {
    str(w, 1, doc.info.title);
    str(w, 2, doc.info.version);
  });
  msg(w, 8, () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      msg(w, 2, () => {
        str(w, 1, path);
        msg(w, 2, () => writePathItem(w, item));
      });
    }
  });
  msg(w, 9, () => {
    for (const [name, s] of Object.entries(doc.definitions)) {
      msg(w, 1, () => {
        str(w, 1, name);
        msg(w, 2, () => writeSchema(w, s));
      });
    }
  });
  return w.finish();
}
