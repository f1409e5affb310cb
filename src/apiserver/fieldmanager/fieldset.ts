/**
 * `fieldSetOf`: the public face of upstream's ToFieldSet, with the FieldsV1 encoding at hand.
 */
import type { FieldSet } from "./fieldpath.ts";
import { resolveSchema } from "./schema.ts";
import type { SchemaRef } from "./schema.ts";
import { toFieldSet } from "./typed.ts";

/**
 * The leaf field paths `obj` sets, typed by `schemaType` (a schema or a proto message name), as
 * an Apply entry records them (before the meta fields are stripped). With `strict` (default
 * false), shape errors and duplicate list keys throw `TypedValueError`; otherwise they are skipped.
 *
 * Example: for a Deployment with one container "web", the set holds
 * `.spec.template.spec.containers[name="web"]` (the item) and `...[name="web"].image`.
 */
export function fieldSetOf(schemaType: SchemaRef, obj: unknown, strict = false): FieldSet {
  return toFieldSet(resolveSchema(schemaType), obj, strict);
}
