/**
 * A throwaway node agent for the restart tests: creates a process runtime over the data dir given
 * as JSON in argv[2], starts a ticker and a short-lived container, prints their ids as one JSON
 * line and then idles until it is killed (SIGKILL, by the test, by PID).
 */
import { createProcessRuntime, type ProcessRuntimeOptions } from "./runtime.ts";

const opts = JSON.parse(process.argv[2] ?? "{}") as ProcessRuntimeOptions & { logDirectory: string };
const rt = await createProcessRuntime(opts);
const sandboxConfig = {
  metadata: { name: "survivor", namespace: "default", uid: "uid-survivor", attempt: 0 },
  logDirectory: opts.logDirectory,
  labels: { "io.kubernetes.pod.uid": "uid-survivor" },
  annotations: {},
};
const sid = await rt.runPodSandbox(sandboxConfig);
await rt.pullImage({ image: "busybox" });
const start = async (name: string, script: string): Promise<string> => {
  const id = await rt.createContainer(
    sid,
    { metadata: { name, attempt: 0 }, image: { image: "busybox" }, command: ["sh", "-c", script], labels: { "io.kubernetes.container.name": name }, annotations: {}, logPath: `${name}/0.log` },
    sandboxConfig,
  );
  await rt.startContainer(id);
  return id;
};
const ticker = await start("ticker", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done");
const short = await start("short", "sleep 0.3; echo done; exit 7");
process.stdout.write(`${JSON.stringify({ sid, ticker, short })}\n`);
setInterval(() => {}, 60_000);
