/**
 * Errors of the container runtime port. Every `RuntimeService` method rejects with a
 * `RuntimeError` whose `code` names what went wrong; callers branch on the code, never on the
 * message (messages are for humans and carry the runtime's own detail, e.g. Docker's text).
 *
 * The codes follow the gRPC status codes a CRI runtime returns, plus the two image-pull reasons
 * the kubelet surfaces on pods (`ErrImagePull`, `ImageNotFound`).
 */

export type RuntimeErrorCode =
  /** The sandbox, container or exec target does not exist. */
  | "NotFound"
  /** A sandbox with the same (namespace, name, uid, attempt) or a container with the same (name, attempt) in the sandbox exists. */
  | "AlreadyExists"
  /** Malformed input: empty names, negative attempts, bad image references, bad log paths. */
  | "InvalidArgument"
  /** The object is in the wrong state for the call (start of a non-CREATED container, create in a NOTREADY sandbox, exec in a non-running container). */
  | "FailedPrecondition"
  /** `createContainer` named an image that is not present on the node. */
  | "ImageNotFound"
  /** `pullImage` failed (no such image in the registry, registry unreachable, auth refused). */
  | "ErrImagePull"
  /** The runtime is not reachable or not ready (daemon down, runtime closed). */
  | "Unavailable"
  /** The runtime declared it cannot do this (see its capabilities), e.g. port-forward on hollow. */
  | "Unimplemented"
  /** A bounded operation ran out of time (e.g. `execSync` with a timeout). */
  | "DeadlineExceeded"
  /** Anything else; a bug or an unexpected failure below the runtime. */
  | "Internal";

export const RUNTIME_ERROR_CODES: readonly RuntimeErrorCode[] = [
  "NotFound",
  "AlreadyExists",
  "InvalidArgument",
  "FailedPrecondition",
  "ImageNotFound",
  "ErrImagePull",
  "Unavailable",
  "Unimplemented",
  "DeadlineExceeded",
  "Internal",
];

/** The one error type of the runtime port. */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  readonly code: RuntimeErrorCode;

  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a RuntimeError (with `code`, when given). */
export function isRuntimeError(err: unknown, code?: RuntimeErrorCode): err is RuntimeError {
  return err instanceof RuntimeError && (code === undefined || err.code === code);
}

/** Shorthand constructors, so every runtime words the common errors the same way. */
export const runtimeErrors = {
  sandboxNotFound: (id: string): RuntimeError => new RuntimeError("NotFound", `pod sandbox "${id}" not found`),
  containerNotFound: (id: string): RuntimeError => new RuntimeError("NotFound", `container "${id}" not found`),
  imageNotFound: (image: string): RuntimeError =>
    new RuntimeError("ImageNotFound", `image "${image}" not present on the node`),
  unimplemented: (runtime: string, what: string): RuntimeError =>
    new RuntimeError("Unimplemented", `${what} is not supported by the ${runtime} runtime`),
  closed: (runtime: string): RuntimeError => new RuntimeError("Unavailable", `the ${runtime} runtime is closed`),
};
