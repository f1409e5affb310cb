import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runRuntimeConformance } from "../../runtime/conformance.ts";
import { processFactory } from "./_harness.ts";
import { ProcessRuntime } from "./runtime.ts";

// Capabilities as this host allows them (tty needs `script`; OOM needs cgroup v2 or the rlimit watchdog).
const probeDir = mkdtempSync(join(tmpdir(), "tug-proc-caps-"));
const caps = new ProcessRuntime({ dataDir: probeDir }).capabilities;
rmSync(probeDir, { recursive: true, force: true });

runRuntimeConformance("process", processFactory(), caps);
