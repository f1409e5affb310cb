/**
 * The result reported on the error stream. v4/v5 send a JSON `metav1.Status` (Go's field order,
 * no kind/apiVersion: the kubelet marshals the bare struct); v1-v3 send the failure message as
 * plain text and nothing on success.
 */

export interface ExecStatusCause {
  readonly reason?: string;
  readonly message?: string;
}

export interface ExecStatus {
  readonly status: "Success" | "Failure";
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes: readonly ExecStatusCause[] };
  readonly code?: number;
}

export const successStatus = (): ExecStatus => ({ status: "Success" });

/**
 * A non-zero exit: reason NonZeroExitCode with an ExitCode cause (kubectl parses the cause as
 * uint8 and exits with it). `detail` follows the CRI's wording by default.
 */
export function exitCodeStatus(code: number, command: readonly string[], detail?: string): ExecStatus {
  const why = detail ?? `error executing command [${command.join(" ")}], exit code ${code}`;
  return {
    status: "Failure",
    message: `command terminated with non-zero exit code: ${why}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

/** The command could not run (kubelet: InternalError, code 500). */
export function internalErrorStatus(kind: "exec" | "attach", err: Error): ExecStatus {
  const inner = kind === "exec"
    ? `error executing command in container: ${err.message}`
    : `error attaching to container: ${err.message}`;
  return {
    status: "Failure",
    message: `Internal error occurred: ${inner}`,
    reason: "InternalError",
    details: { causes: [{ message: inner }] },
    code: 500,
  };
}

/** JSON in metav1.Status field order: metadata, status, message, reason, details, code. */
export function encodeStatusJson(s: ExecStatus): Uint8Array {
  const o: Record<string, unknown> = { metadata: {}, status: s.status };
  if (s.message !== undefined) o["message"] = s.message;
  if (s.reason !== undefined) o["reason"] = s.reason;
  if (s.details !== undefined) o["details"] = { causes: s.details.causes.map((c) => ({ ...c })) };
  if (s.code !== undefined) o["code"] = s.code;
  return new TextEncoder().encode(JSON.stringify(o));
}

/** v1-v3: the failure message as text; nothing for success. */
export function encodeStatusText(s: ExecStatus): Uint8Array | undefined {
  if (s.status === "Success") return undefined;
  return new TextEncoder().encode(s.message ?? "unknown error");
}

/** The encoder a protocol version uses. */
export function statusEncoderFor(protocol: string): (s: ExecStatus) => Uint8Array | undefined {
  return protocol === "v4.channel.k8s.io" || protocol === "v5.channel.k8s.io" ? encodeStatusJson : encodeStatusText;
}
