/**
 * PatchOptions checks the PATCH handler runs before anything else (upstream
 * ValidatePatchOptions): apply needs a fieldManager, only apply takes `force`, and a fieldManager
 * is at most 128 bytes of printable characters. Failures are 422 Invalid on
 * `PatchOptions.meta.k8s.io ""`, exactly as kube-apiserver answers.
 */
import { invalid } from "../../api/errors.ts";
import type { ApiError, StatusCause } from "../../api/errors.ts";

export const FIELD_MANAGER_MAX_LENGTH = 128;

export interface PatchOptionsInput {
  /** The request is `application/apply-patch+yaml` (or +cbor). */
  readonly isApply: boolean;
  /** The `fieldManager` query parameter ("" when absent). */
  readonly fieldManager: string;
  /** Whether the `force` query parameter was given at all. */
  readonly forceGiven: boolean;
}

function goQuoteRune(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Unicode "printable" close to Go's unicode.IsPrint: no controls, no format/separator characters except the ASCII space. */
function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  return !/[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u.test(String.fromCodePoint(cp));
}

/** Field errors for a fieldManager value (also used by create/update). */
export function fieldManagerCauses(fieldManager: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (new TextEncoder().encode(fieldManager).length > FIELD_MANAGER_MAX_LENGTH) {
    causes.push({ reason: "FieldValueTooLong", message: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`, field: "fieldManager" });
  }
  let byte = 0;
  for (const ch of fieldManager) {
    const cp = ch.codePointAt(0) ?? 0;
    if (!isPrint(cp)) {
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(fieldManager)}: invalid character ${goQuoteRune(cp)} (at position ${byte})`,
        field: "fieldManager",
      });
    }
    byte += new TextEncoder().encode(ch).length;
  }
  return causes;
}

/** The 422 for bad PatchOptions, or undefined when they are fine. */
export function validatePatchOptions(o: PatchOptionsInput): ApiError | undefined {
  const causes: StatusCause[] = [];
  if (o.isApply) {
    if (o.fieldManager === "") causes.push({ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" });
  } else if (o.forceGiven) {
    causes.push({ reason: "FieldValueForbidden", message: "Forbidden: may not be specified for non-apply patch", field: "force" });
  }
  causes.push(...fieldManagerCauses(o.fieldManager));
  return causes.length > 0 ? invalid("meta.k8s.io", "PatchOptions", "", causes) : undefined;
}
