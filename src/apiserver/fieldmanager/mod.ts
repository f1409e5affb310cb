/**
 * Server-side apply's field management: managedFields (FieldsV1) for every write, and the apply
 * merge with conflict detection. Pure and synchronous; see docs/server-side-apply.md.
 */
export {
  apply, BEFORE_FIRST_APPLY, conflictError, isConflicts, LAST_APPLIED_ANNOTATION, resetFieldsFor,
  updateManagedFields,
} from "./manager.ts";
export type {
  ApplyConflicts, ApplyOptions, ApplyResult, ApplySuccess, Conflict, IgnoredFields, UpdateOptions,
} from "./manager.ts";
export { fieldSetOf } from "./fieldset.ts";
export {
  canonicalPE, comparePE, fieldPE, FieldSet, FieldsV1Error, fromFieldsV1, indexPE, keyPE, pathOf,
  pathString, toFieldsV1, valuePE,
} from "./fieldpath.ts";
export type { FieldsV1, Path, PathElement, Scalar } from "./fieldpath.ts";
export {
  ANCIENT_CHANGES, decodeManagedFields, DEFAULT_MAX_UPDATE_MANAGERS, encodeManagedFields, formatTime,
  ManagedFieldsError,
} from "./managed.ts";
export type { ManagedFieldsEntry, Operation, Owner } from "./managed.ts";
export { resolveSchema, schemaForKind, schemaForMessage } from "./schema.ts";
export type { ListSchema, MapSchema, SchemaRef, StructSchema, TypeSchema } from "./schema.ts";
export { TypedValueError } from "./typed.ts";
export { fieldManagerCauses, FIELD_MANAGER_MAX_LENGTH, validatePatchOptions } from "./options.ts";
export type { PatchOptionsInput } from "./options.ts";
