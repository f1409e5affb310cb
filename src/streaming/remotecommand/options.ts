/** Exec/attach query parameters (PodExecOptions / PodAttachOptions) to `RemoteCommandOptions`. */
import type { RemoteCommandOptions } from "./types.ts";

/** Go's strconv.ParseBool, which the apiserver's query conversion uses. */
function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

/**
 * Reads `command` (repeated), `container`, `stdin`, `stdout`, `stderr`, `tty`. Returns the options
 * or an error message for a 400 (a malformed boolean, no stream requested, exec without command).
 * With `tty`, `stderr` is dropped (as the kubelet does).
 */
export function parseRemoteCommandOptions(
  query: URLSearchParams,
  kind: "exec" | "attach",
): RemoteCommandOptions | { readonly error: string } {
  const flags: Record<"stdin" | "stdout" | "stderr" | "tty", boolean> = { stdin: false, stdout: false, stderr: false, tty: false };
  for (const name of ["stdin", "stdout", "stderr", "tty"] as const) {
    const raw = query.get(name);
    if (raw === null) continue;
    const v = parseBool(raw);
    if (v === undefined) return { error: `invalid value for ${name}: ${JSON.stringify(raw)}: must be a boolean` };
    flags[name] = v;
  }
  if (flags.tty) flags.stderr = false;
  if (!flags.stdin && !flags.stdout && !flags.stderr) {
    return { error: "you must specify at least 1 of stdin, stdout, stderr" };
  }
  const command = query.getAll("command");
  if (kind === "exec" && command.length === 0) return { error: "you must specify at least one command for the container" };
  return { command, container: query.get("container") ?? "", ...flags };
}
