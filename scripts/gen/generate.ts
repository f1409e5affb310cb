/** Pure core of the generator: proto sources in, generated files (name -> text) out. */
import { emitCodec } from "./emit_codec.ts";
import { emitCodecs, emitKinds, emitSchema } from "./emit_tables.ts";
import { emitTypes } from "./emit_types.ts";
import { buildModel } from "./model.ts";
import { parseProto } from "./parse.ts";

export interface ProtoSource {
  /** Path relative to proto/. */
  readonly path: string;
  readonly text: string;
}

export function generate(sources: readonly ProtoSource[]): Map<string, string> {
  const model = buildModel(sources.map((s) => parseProto(s.path, s.text)));
  const out = new Map<string, string>();
  for (const mod of [...model.modules.keys()].sort()) {
    const msgs = model.modules.get(mod)!;
    out.set(`${mod}.ts`, emitTypes(model, mod, msgs));
    out.set(`${mod}.pb.ts`, emitCodec(model, mod, msgs));
  }
  out.set("schema.ts", emitSchema(model));
  out.set("kinds.ts", emitKinds(model));
  out.set("codecs.ts", emitCodecs(model));
  return out;
}
