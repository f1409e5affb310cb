/**
 * ApiError carries a Kubernetes `Status` for everything that crosses the API. Handlers throw it;
 * the server renders `status` in the negotiated encoding with `code` as the HTTP status.
 */

export type StatusReason =
  | "BadRequest" | "Unauthorized" | "Forbidden" | "NotFound" | "AlreadyExists" | "Conflict"
  | "Gone" | "Expired" | "Invalid" | "MethodNotAllowed" | "NotAcceptable"
  | "UnsupportedMediaType" | "RequestEntityTooLarge" | "TooManyRequests" | "InternalError"
  | "Timeout" | "ServerTimeout" | "ServiceUnavailable";

export type CauseType =
  | "FieldValueNotFound" | "FieldValueRequired" | "FieldValueDuplicate" | "FieldValueInvalid"
  | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueTooLong" | "FieldValueTooMany"
  | "InternalError" | "FieldValueTypeInvalid" | "UnexpectedServerResponse" | "FieldManagerConflict"
  | "ResourceVersionTooLarge" | "ExitCode" | "DisruptionBudget";

export interface StatusCause {
  reason?: CauseType;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  status: "Success" | "Failure";
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly status: Status;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = "ApiError";
    this.status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
  }

  get code(): number {
    return this.status.code;
  }

  get reason(): StatusReason | undefined {
    return this.status.reason;
  }
}

/** `resource` is the plural, qualified with the group when not core: `deployments.apps`. */
function qualified(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const badRequest = (message: string): ApiError => new ApiError(400, "BadRequest", message);

export const notFound = (group: string, resource: string, name: string): ApiError =>
  new ApiError(404, "NotFound", `${qualified(group, resource)} "${name}" not found`, {
    name, ...(group ? { group } : {}), kind: resource,
  });

export const alreadyExists = (group: string, resource: string, name: string): ApiError =>
  new ApiError(409, "AlreadyExists", `${qualified(group, resource)} "${name}" already exists`, {
    name, ...(group ? { group } : {}), kind: resource,
  });

export const conflict = (group: string, resource: string, name: string, why: string): ApiError =>
  new ApiError(409, "Conflict",
    `Operation cannot be fulfilled on ${qualified(group, resource)} "${name}": ${why}`, {
      name, ...(group ? { group } : {}), kind: resource,
    });

/**
 * 422 Invalid. kubectl prints `The <kind> "<name>" is invalid: <field>: <message>` from the causes,
 * so `kind` is the Kind (e.g. "Deployment") and each cause carries `field` and a message that
 * already starts with the kind of problem ("Invalid value: 0: must be greater than zero").
 */
export const invalid = (group: string, kind: string, name: string, causes: StatusCause[]): ApiError =>
  new ApiError(422, "Invalid",
    `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ` +
      causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ""}` : c.message ?? "")).join(", "),
    { name, ...(group ? { group } : {}), kind, causes });

export const methodNotAllowed = (message: string): ApiError => new ApiError(405, "MethodNotAllowed", message);

export const unsupportedMediaType = (contentType: string): ApiError =>
  new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got "${contentType}")`);

export const notAcceptable = (accept: string): ApiError =>
  new ApiError(406, "NotAcceptable", `only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf (asked for "${accept}")`);

export const tooLarge = (limit: number): ApiError =>
  new ApiError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);

export const gone = (message: string): ApiError => new ApiError(410, "Expired", message);

export const unauthorized = (): ApiError => new ApiError(401, "Unauthorized", "Unauthorized");

export const internalError = (err: unknown): ApiError =>
  new ApiError(500, "InternalError", `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
