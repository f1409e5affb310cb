/** Generator tests (vitest only collects src/, so they live here). */
import { describe, expect, it } from "vitest";
import { generate } from "../../../scripts/gen/generate.ts";
import { parseProto } from "../../../scripts/gen/parse.ts";

const file = (text: string): string => `syntax = "proto2";\npackage k8s.io.api.demo.v1;\n${text}`;
const gen = (text: string, extra: Array<{ path: string; text: string }> = []): Map<string, string> =>
  generate([{ path: "k8s.io/api/demo/v1/types.proto", text: file(text) }, ...extra]);

describe("proto parser", () => {
  it("reads markers above messages and fields", () => {
    const f = parseProto("x.proto", file(`// +tug:groupVersion=demo/v1
// A thing.
// +tug:kind plural=things scope=Cluster shortNames=th
message Thing {
  // +tug:keepZero
  // +tug:listMapKey=a
  // +tug:listMapKey=b
  optional int32 n = 1;
  map<string, string> m = 2;
}
message ThingList {
  repeated Thing items = 2;
}
`));
    expect(f.markers["groupVersion"]).toEqual(["demo/v1"]);
    expect(f.messages[0]!.markers["kind"]).toEqual(["plural=things scope=Cluster shortNames=th"]);
    expect(f.messages[0]!.comments).toEqual(["A thing."]);
    expect(f.messages[0]!.fields[0]!.markers).toEqual({ keepZero: [""], listMapKey: ["a", "b"] });
    expect(f.messages[0]!.fields[1]).toMatchObject({ label: "map", keyType: "string", type: "string", number: 2 });
  });
  it("rejects what it does not support, with file:line", () => {
    expect(() => parseProto("x.proto", file("message A {\n  message B {}\n}"))).toThrow(/x\.proto:4: nested message/);
    expect(() => parseProto("x.proto", file("message A {\n  string s = 1;\n}"))).toThrow(/x\.proto:4: proto2 fields need a label/);
    expect(() => parseProto("x.proto", 'syntax = "proto3";')).toThrow(/only proto2/);
    expect(() => parseProto("x.proto", file("message A {\n  optional string s = 0;\n}"))).toThrow(/invalid field number 0/);
    expect(() => parseProto("x.proto", file("message A {"))).toThrow(/not closed/);
  });
});

describe("generator", () => {
  it("reports schema mistakes clearly", () => {
    expect(() => gen("message A {\n  optional Nope x = 1;\n}")).toThrow(/types\.proto:4: unknown type Nope/);
    expect(() => gen("message A {\n  optional string x = 1;\n  optional string y = 1;\n}")).toThrow(/field number 1 used twice/);
    expect(() => gen("// +tug:groupVersion=demo/v1\n// +tug:kind plural=as scope=Namespaced\nmessage A {\n}")).toThrow(/no AList message/);
    expect(() => gen("// +tug:kind plural=as scope=Namespaced\nmessage A {\n}\nmessage AList {\n}")).toThrow(/groupVersion/);
    expect(() => gen("message A {\n  // +tug:bogus\n  optional string x = 1;\n}")).toThrow(/unknown field marker \+tug:bogus/);
    expect(() => gen("message A {\n  optional k8s.io.api.other.v1.B b = 1;\n}", [
      { path: "k8s.io/api/other/v1/types.proto", text: 'syntax = "proto2";\npackage k8s.io.api.other.v1;\nmessage B {\n}\n' },
    ])).toThrow(/does not import/);
  });
  it("is deterministic and emits types, codecs and tables", () => {
    const src = "// +tug:groupVersion=demo/v1\n// +tug:kind plural=things scope=Cluster\nmessage Thing {\n  optional string s = 1;\n}\nmessage ThingList {\n  repeated Thing items = 2;\n}\n";
    const a = gen(src);
    const b = gen(src);
    expect([...a.entries()]).toEqual([...b.entries()]);
    expect([...a.keys()].sort()).toEqual(["codecs.ts", "demo_v1.pb.ts", "demo_v1.ts", "kinds.ts", "schema.ts"]);
    expect(a.get("demo_v1.ts")).toContain("export interface Thing {\n  apiVersion?: string;\n  kind?: string;\n  s?: string;\n}");
    expect(a.get("demo_v1.ts")!.split("\n")[0]).toMatch(/generated.*DO NOT EDIT/);
    expect(a.get("kinds.ts")).toContain('"plural":"things"');
  });
});
