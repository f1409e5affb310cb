/** Pods: defaults, status reset, the update rule, field selectors and kubectl's pod table. */
import { deepEqual, forbidden, invalid, type FieldError } from "../../../api/validation/field.ts";
import { inclusiveRangeError } from "../../../api/validation/names.ts";
import { parseQuantity } from "../../../api/validation/quantity.ts";
import { arr, bool, clone, ensure, isRecord, rec, recs, str, num, type Json } from "./_access.ts";
import { AGE_COLUMN, NAME_COLUMN, col, defineStrategy, nameOf, ageOf, printer } from "./_base.ts";
import { translateTimestampSince } from "./_duration.ts";
import { defaultPodSpec, qosClass, validatePodSpec } from "./_podspec.ts";

const UPDATABLE_FIELDS = [
  "`spec.containers[*].image`",
  "`spec.initContainers[*].image`",
  "`spec.activeDeadlineSeconds`",
  "`spec.tolerations` (only additions to existing tolerations)",
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

function defaultPod(obj: Json): void {
  const spec = ensure(obj, "spec");
  defaultPodSpec(spec);
  // Pods only (not templates): requests default to limits where only limits are given.
  for (const field of ["initContainers", "containers"]) {
    for (const c of recs(spec, field)) {
      const lim = rec(c, "resources", "limits");
      if (!lim || Object.keys(lim).length === 0) continue;
      const req = ensure(c, "resources", "requests");
      for (const [k, v] of Object.entries(lim)) {
        // Unparseable limits are reported once (under limits), not copied into requests.
        if (req[k] === undefined && typeof parseQuantity(String(v)) !== "string") req[k] = v;
      }
    }
  }
  // The Priority admission plugin's defaults for pods without a priority class.
  if (spec.priority === undefined) spec.priority = 0;
  if (spec.preemptionPolicy === undefined) spec.preemptionPolicy = "PreemptLowerPriority";
}

/** Lists paths where two JSON values differ (bounded), for the update error's diff text. */
function diffPaths(a: unknown, b: unknown, path: string, out: string[], limit = 20): void {
  if (out.length >= limit || deepEqual(a, b)) return;
  if (isRecord(a) && isRecord(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diffPaths(a[k], b[k], `${path}.${k}`, out, limit);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diffPaths(x, b[i], `${path}[${i}]`, out, limit));
    return;
  }
  out.push(`  ${path}: ${JSON.stringify(a) ?? "null"} -> ${JSON.stringify(b) ?? "null"}`);
}

function validatePodUpdate(obj: Json, old: Json): FieldError[] {
  const errs: FieldError[] = [];
  const spec = rec(obj, "spec") ?? {};
  const oldSpec = rec(old, "spec") ?? {};
  const ads = num(spec, "activeDeadlineSeconds");
  const oldAds = num(oldSpec, "activeDeadlineSeconds");
  if (ads !== undefined) {
    if (ads < 0 || ads > 2147483647) return [invalid("spec.activeDeadlineSeconds", ads, inclusiveRangeError(0, 2147483647))];
    if (oldAds !== undefined && oldAds < ads) return [invalid("spec.activeDeadlineSeconds", ads, "must be less than or equal to previous value")];
  } else if (oldAds !== undefined) {
    errs.push(invalid("spec.activeDeadlineSeconds", null, "must not update from a positive integer to nil value"));
  }
  // Munge the allowed changes back to the old values; anything left over is forbidden.
  const munged = clone(spec);
  for (const field of ["containers", "initContainers"]) {
    const now = recs(munged, field);
    const was = recs(oldSpec, field);
    if (now.length === was.length) now.forEach((c, i) => { const w = was[i]; if (w && w.image !== undefined) c.image = w.image; });
  }
  if (oldAds !== undefined || ads !== undefined) {
    if (oldAds === undefined) delete munged.activeDeadlineSeconds; else munged.activeDeadlineSeconds = oldAds;
  }
  const oldTols = arr(oldSpec, "tolerations");
  const newTols = arr(munged, "tolerations");
  if (oldTols.every((t) => newTols.some((n) => deepEqual(n, t)))) {
    if (oldSpec.tolerations === undefined) delete munged.tolerations; else munged.tolerations = clone(oldSpec.tolerations);
  }
  const oldGrace = num(oldSpec, "terminationGracePeriodSeconds");
  if (oldGrace !== undefined && oldGrace < 0 && num(munged, "terminationGracePeriodSeconds") === 1) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  if (!deepEqual(munged, oldSpec)) {
    const lines: string[] = [];
    diffPaths(oldSpec, munged, "spec", lines);
    errs.push(forbidden("spec", `pod updates may not change fields other than ${UPDATABLE_FIELDS.join(",")}\n${lines.join("\n")}`));
  }
  return errs;
}

interface ContainerState { waiting?: Json; running?: Json; terminated?: Json }

function stateOf(cs: Json): ContainerState {
  const st = rec(cs, "state") ?? {};
  const out: ContainerState = {};
  const w = rec(st, "waiting"); if (w) out.waiting = w;
  const r = rec(st, "running"); if (r) out.running = r;
  const t = rec(st, "terminated"); if (t) out.terminated = t;
  return out;
}

function terminatedReason(t: Json, prefix: string): string {
  const reason = str(t, "reason") ?? "";
  if (reason) return prefix + reason;
  const signal = num(t, "signal") ?? 0;
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${num(t, "exitCode") ?? 0}`;
}

/** Cells Ready, Status, Restarts of kubectl's pod printer. */
export function podStatusCells(pod: Json, now: Date): { ready: string; reason: string; restarts: string } {
  const spec = rec(pod, "spec") ?? {};
  const status = rec(pod, "status") ?? {};
  const initSpecs = recs(spec, "initContainers");
  const restartable = new Set(initSpecs.filter((c) => c.restartPolicy === "Always").map((c) => str(c, "name") ?? ""));
  let total = recs(spec, "containers").length + restartable.size;
  if (total < 0) total = 0;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  const noteRestart = (cs: Json): void => {
    const fin = str(cs, "lastState", "terminated", "finishedAt");
    if (fin) { const t = Date.parse(fin); if (!Number.isNaN(t) && t > lastRestart) lastRestart = t; }
  };
  let reason = str(status, "phase") ?? "";
  if (str(status, "reason")) reason = str(status, "reason") ?? "";
  for (const c of recs(status, "conditions")) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }
  const initStatuses = recs(status, "initContainerStatuses");
  let initializing = false;
  let restartableRestarts = 0;
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] ?? {};
    const rc = num(cs, "restartCount") ?? 0;
    restarts += rc;
    noteRestart(cs);
    const isRestartable = restartable.has(str(cs, "name") ?? "");
    if (isRestartable) {
      restartableRestarts += rc;
      if (bool(cs, "started") === true && bool(cs, "ready") === true) ready++;
    }
    const st = stateOf(cs);
    if (st.terminated && (num(st.terminated, "exitCode") ?? 0) === 0) continue;
    if (isRestartable && bool(cs, "started") === true) continue;
    if (st.terminated) reason = terminatedReason(st.terminated, "Init:");
    else if (st.waiting && str(st.waiting, "reason") && str(st.waiting, "reason") !== "PodInitializing") reason = `Init:${str(st.waiting, "reason") ?? ""}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }
  const initializedTrue = recs(status, "conditions").some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initializedTrue) {
    restarts = restartableRestarts;
    let hasRunning = false;
    const statuses = recs(status, "containerStatuses");
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] ?? {};
      restarts += num(cs, "restartCount") ?? 0;
      noteRestart(cs);
      const st = stateOf(cs);
      if (st.waiting && str(st.waiting, "reason")) reason = str(st.waiting, "reason") ?? "";
      else if (st.terminated && str(st.terminated, "reason")) reason = str(st.terminated, "reason") ?? "";
      else if (st.terminated) reason = terminatedReason(st.terminated, "");
      else if (bool(cs, "ready") === true && st.running) { hasRunning = true; ready++; }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = recs(status, "conditions").some((c) => c.type === "Ready" && c.status === "True");
      reason = podReady ? "Running" : "NotReady";
    }
  }
  const phase = str(status, "phase");
  if (str(pod, "metadata", "deletionTimestamp") && str(status, "reason") === "NodeLost") reason = "Unknown";
  else if (str(pod, "metadata", "deletionTimestamp") && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";
  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== 0) {
    restartsText = `${restarts} (${translateTimestampSince(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { ready: `${ready}/${total}`, reason, restarts: restartsText };
}

const podTable = printer([
  NAME_COLUMN,
  col("Ready", "string", "Ready containers out of all containers in the pod."),
  col("Status", "string", "The pod's aggregate status, as kubectl summarizes it."),
  col("Restarts", "string", "Container restarts, and how long ago the last one was."),
  AGE_COLUMN,
  col("IP", "string", "The pod's IP address, once allocated.", 1),
  col("Node", "string", "The node the pod is bound to.", 1),
  col("Nominated Node", "string", "The node this pod is nominated for after preempting others.", 1),
  col("Readiness Gates", "string", "Readiness gates that are true out of all gates.", 1),
], (pod, now) => {
  const { ready, reason, restarts } = podStatusCells(pod, now);
  const gates = recs(pod, "spec", "readinessGates");
  let gatesCell = "<none>";
  if (gates.length > 0) {
    const conds = recs(pod, "status", "conditions");
    const trueCount = gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === "True")).length;
    gatesCell = `${trueCount}/${gates.length}`;
  }
  return [
    nameOf(pod), ready, reason, restarts, ageOf(pod, now),
    str(pod, "status", "podIP") || "<none>",
    str(pod, "spec", "nodeName") || "<none>",
    str(pod, "status", "nominatedNodeName") || "<none>",
    gatesCell,
  ];
});

const strOr = (v: unknown): string => (typeof v === "string" ? v : "");

/** Field-selector attributes of a pod (read once per stored pod by the watch cache: no helpers). */
function podFields(pod: Json): Record<string, string> {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const status = isRecord(pod["status"]) ? pod["status"] : {};
  const ips = status["podIPs"];
  let podIP: string | undefined;
  if (Array.isArray(ips)) {
    const first = ips.find(isRecord);
    if (first !== undefined && typeof first["ip"] === "string") podIP = first["ip"];
  }
  return {
    "spec.nodeName": strOr(spec["nodeName"]),
    "spec.restartPolicy": strOr(spec["restartPolicy"]),
    "spec.schedulerName": strOr(spec["schedulerName"]),
    "spec.serviceAccountName": strOr(spec["serviceAccountName"]),
    "spec.hostNetwork": String(spec["hostNetwork"] === true),
    "status.phase": strOr(status["phase"]),
    "status.podIP": podIP ?? strOr(status["podIP"]),
    "status.nominatedNodeName": strOr(status["nominatedNodeName"]),
  };
}

export const pods = defineStrategy({
  group: "", kind: "Pod", plural: "pods", namespaced: true,
  statusSubresource: true, tracksGeneration: true, statusMetadata: "allow-labels-annotations",
  defaults: defaultPod,
  initialStatus: (obj) => ({ phase: "Pending", qosClass: qosClass(rec(obj, "spec")) }),
  validate: (obj) => validatePodSpec(rec(obj, "spec"), "spec"),
  validateUpdate: validatePodUpdate,
  // A status update carries the old spec back (prepareForStatusUpdate), and the pod rules above
  // look at the spec only: re-checking it would find nothing and costs a clone and a deep compare.
  validateStatusUpdate: () => [],
  fields: podFields,
  table: podTable,
});
