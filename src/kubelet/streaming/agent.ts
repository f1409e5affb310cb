/**
 * How an agent process gets its streaming server: the cluster CA from a PKI directory (the
 * control plane's `<data dir>/pki`, given with `--pki-dir`, or found next to the kubeconfig
 * `tug server` wrote), a serving certificate for loopback issued from it at start, one server for
 * every node of the process.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { startStreamingServer, kubeletCredentialsFromPkiDir, type StreamingServer } from "./server.ts";

/** `<dir of the kubeconfig>/pki` when it holds `ca.crt` and `ca.key` (as `tug server --data-dir D` lays it out). */
export function pkiDirNextTo(kubeconfigPath: string): string | undefined {
  const dir = join(dirname(resolve(kubeconfigPath)), "pki");
  return existsSync(join(dir, "ca.crt")) && existsSync(join(dir, "ca.key")) ? dir : undefined;
}

/**
 * Starts the process's streaming server from `pkiDir`; without one, returns undefined after
 * saying so through `log` (the agent runs, but logs/exec/attach/port-forward are refused).
 */
export async function startAgentStreaming(o: { pkiDir: string | undefined; log?: (msg: string) => void }): Promise<StreamingServer | undefined> {
  if (o.pkiDir === undefined) {
    o.log?.("no cluster CA found (pass --pki-dir <control plane data dir>/pki): kubectl logs/exec/attach/port-forward will not reach this agent");
    return undefined;
  }
  return startStreamingServer({ credentials: await kubeletCredentialsFromPkiDir(o.pkiDir) });
}
