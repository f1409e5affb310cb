/**
 * Emits the tables: schema.ts (message -> fields with markers and descriptions), kinds.ts (kinds and body kinds for
 * the registry) and codecs.ts (message name -> generated encode/decode; apiVersion+kind -> message).
 */
import { HEADER } from "./emit_types.ts";
import { describe, type Model } from "./model.ts";

export function emitSchema(model: Model): string {
  const out: string[] = [
    HEADER,
    `import type { FieldSchema, MessageSchema } from "../codec/schema.ts";`,
    "",
    "/** A field with its description: the doc comment above it in proto/ (markers excluded). */",
    "export interface DescribedFieldSchema extends FieldSchema {",
    "  readonly description?: string;",
    "}",
    "",
    "/** A message with its description and described fields. */",
    "export interface DescribedMessageSchema extends MessageSchema {",
    "  readonly description?: string;",
    "  readonly fields: readonly DescribedFieldSchema[];",
    "}",
    "",
  ];
  out.push("/** Every message under proto/, by fully-qualified name. */");
  out.push("export const MESSAGES: Readonly<Record<string, DescribedMessageSchema>> = {");
  for (const fq of [...model.messages.keys()].sort()) {
    const m = model.messages.get(fq)!;
    const fields = m.fields.map((f) => {
      const description = describe(f.comments);
      return {
        json: f.json, name: f.name, number: f.number, type: f.kind === "message" ? f.ref! : f.kind,
        ...(f.repeated ? { repeated: true } : {}), ...(f.map ? { map: true } : {}),
        ...(f.keepZero ? { keepZero: true } : {}), ...(f.inline ? { inline: true } : {}),
        ...(f.patchStrategy ? { patchStrategy: f.patchStrategy } : {}),
        ...(f.patchMergeKey ? { patchMergeKey: f.patchMergeKey } : {}),
        ...(f.listType ? { listType: f.listType } : {}),
        ...(f.listMapKeys ? { listMapKeys: f.listMapKeys } : {}),
        ...(description !== undefined ? { description } : {}),
      };
    });
    const description = describe(m.comments);
    const entry = { name: m.name, ...(m.special ? { special: m.special } : {}), ...(description !== undefined ? { description } : {}), fields };
    out.push(`  ${JSON.stringify(fq)}: ${JSON.stringify(entry)},`);
  }
  out.push("};", "");
  return out.join("\n");
}

export function emitKinds(model: Model): string {
  const kinds: unknown[] = [];
  const bodies: Array<{ apiVersion: string; kind: string; protoMessage: string }> = [];
  for (const m of [...model.messages.values()].sort((a, b) => a.fq.localeCompare(b.fq))) {
    if (m.kind) {
      const k = m.kind;
      kinds.push({
        group: k.group, version: k.version, kind: k.kind, listKind: `${k.kind}List`, plural: k.plural,
        singular: k.singular, namespaced: k.namespaced, shortNames: k.shortNames, categories: k.categories,
        subresources: k.subresources, protoMessage: m.fq, listProtoMessage: k.listMessage,
      });
    }
    for (const av of m.bodyApiVersions ?? []) bodies.push({ apiVersion: av, kind: m.name, protoMessage: m.fq });
  }
  return [
    HEADER,
    "",
    "export interface GeneratedKind {",
    "  readonly group: string;",
    "  readonly version: string;",
    "  readonly kind: string;",
    "  readonly listKind: string;",
    "  readonly plural: string;",
    "  readonly singular: string;",
    "  readonly namespaced: boolean;",
    "  readonly shortNames: readonly string[];",
    "  readonly categories: readonly string[];",
    "  readonly subresources: readonly string[];",
    "  readonly protoMessage: string;",
    "  readonly listProtoMessage: string;",
    "}",
    "",
    "export interface GeneratedBody {",
    "  readonly apiVersion: string;",
    "  readonly kind: string;",
    "  readonly protoMessage: string;",
    "}",
    "",
    "/** Stored resource kinds (`+tug:kind`). */",
    "export const KINDS: readonly GeneratedKind[] = [",
    ...kinds.map((k) => `  ${JSON.stringify(k)},`),
    "];",
    "",
    "/** API bodies that have a kind but are not stored resources (`+tug:body`). */",
    "export const BODIES: readonly GeneratedBody[] = [",
    ...bodies.map((b) => `  ${JSON.stringify(b)},`),
    "];",
    "",
  ].join("\n");
}

export function emitCodecs(model: Model): string {
  const mods = new Set<string>();
  const rows: string[] = [];
  for (const fq of [...model.messages.keys()].sort()) {
    const m = model.messages.get(fq)!;
    if (m.special) continue;
    mods.add(m.module);
    rows.push(`  [${JSON.stringify(fq)}, { encode: ${m.module}.encode${m.name} as EncodeFn, decode: ${m.module}.decode${m.name} as DecodeFn, create: ${m.module}.new${m.name} }],`);
  }
  const gvk: string[] = [];
  for (const m of [...model.messages.values()].sort((a, b) => a.fq.localeCompare(b.fq))) {
    if (m.kind) {
      const av = m.kind.group ? `${m.kind.group}/${m.kind.version}` : m.kind.version;
      gvk.push(`  [${JSON.stringify(`${av} ${m.kind.kind}`)}, ${JSON.stringify(m.fq)}],`);
      gvk.push(`  [${JSON.stringify(`${av} ${m.kind.kind}List`)}, ${JSON.stringify(m.kind.listMessage)}],`);
    }
    for (const av of m.bodyApiVersions ?? []) gvk.push(`  [${JSON.stringify(`${av} ${m.name}`)}, ${JSON.stringify(m.fq)}],`);
  }
  return [
    HEADER,
    `import type { Reader } from "../codec/reader.ts";`,
    `import type { Writer } from "../codec/writer.ts";`,
    ...[...mods].sort().map((d) => `import * as ${d} from "./${d}.pb.ts";`),
    "",
    "// The generated functions take their own message type; the table erases it to `object`.",
    "export type EncodeFn = (w: Writer, o: object) => void;",
    "export type DecodeFn = (r: Reader, end: number, o: object) => object;",
    "export interface MessageCodec {",
    "  readonly encode: EncodeFn;",
    "  readonly decode: DecodeFn;",
    "  /** An empty object of the message, sized for what its decoder adds (see emit_codec.ts). */",
    "  readonly create: () => object;",
    "}",
    "",
    "/** Fully-qualified message name -> generated codec (messages with a special JSON form excluded). */",
    "export const CODECS: ReadonlyMap<string, MessageCodec> = new Map<string, MessageCodec>([",
    ...rows,
    "]);",
    "",
    '/** "apiVersion kind" (kinds, their lists, bodies) -> fully-qualified message name. */',
    "export const GVK_MESSAGES: ReadonlyMap<string, string> = new Map<string, string>([",
    ...gvk,
    "]);",
    "",
  ].join("\n");
}
