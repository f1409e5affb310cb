/**
 * PodSpec defaulting and validation shared by pods and every kind with a pod template
 * (upstream `SetDefaults_PodSpec`/`SetDefaults_Container` and `ValidatePodSpec` facts).
 */
import {
  child, duplicate, forbidden, index, invalid, key, notFound, notSupported, required, validateNonnegative,
  type FieldError,
} from "../../../api/validation/field.ts";
import { validateLabels, validateQuantity, validateAnnotations } from "../../../api/validation/meta.ts";
import {
  inclusiveRangeError, isDns1123Label, isDns1123Subdomain, isEnvVarName, isQualifiedName, isValidPortName, isValidPortNum,
} from "../../../api/validation/names.ts";
import { compareQuantities, formatQuantity, parseQuantity as parseQuantityUncached, type Quantity } from "../../../api/validation/quantity.ts";

/**
 * `parseQuantity`, memoized: every pod write parses the same few quantities several times
 * (validation, QoS class). Results are immutable (readonly fields); the table is bounded.
 */
const quantities = new Map<string, Quantity | string>();
function parseQuantity(input: string): Quantity | string {
  let q = quantities.get(input);
  if (q === undefined) {
    q = parseQuantityUncached(input);
    if (quantities.size >= 4096) quantities.clear();
    quantities.set(input, q);
  }
  return q;
}
import { ensure, isRecord, num, rec, recs, setDefault, str, type Json } from "./_access.ts";

const VOLUME_SOURCES = [
  "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
  "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
  "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
  "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
];

/** Image tag per upstream's reference parser: "latest" when neither tag nor digest is given. */
export function imageTag(image: string): string {
  if (image.includes("@")) return "";
  const lastSlash = image.lastIndexOf("/");
  const tail = image.slice(lastSlash + 1);
  const colon = tail.lastIndexOf(":");
  return colon >= 0 ? tail.slice(colon + 1) : "latest";
}

function defaultProbe(p: Json | undefined): void {
  if (!p) return;
  setDefault(p, "timeoutSeconds", 1);
  setDefault(p, "periodSeconds", 10);
  setDefault(p, "successThreshold", 1);
  setDefault(p, "failureThreshold", 3);
  const http = rec(p, "httpGet");
  if (http) { setDefault(http, "path", "/"); setDefault(http, "scheme", "HTTP"); }
}

function defaultContainer(c: Json, hostNetwork: boolean): void {
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(str(c, "image") ?? "") === "latest" ? "Always" : "IfNotPresent";
  setDefault(c, "resources", {});
  for (const p of recs(c, "ports")) {
    setDefault(p, "protocol", "TCP");
    if (hostNetwork && p.hostPort === undefined && typeof p.containerPort === "number") p.hostPort = p.containerPort;
  }
  for (const e of recs(c, "env")) {
    const fr = rec(e, "valueFrom", "fieldRef");
    if (fr) setDefault(fr, "apiVersion", "v1");
  }
  defaultProbe(rec(c, "livenessProbe"));
  defaultProbe(rec(c, "readinessProbe"));
  defaultProbe(rec(c, "startupProbe"));
  for (const h of ["postStart", "preStop"]) {
    const http = rec(c, "lifecycle", h, "httpGet");
    if (http) { setDefault(http, "path", "/"); setDefault(http, "scheme", "HTTP"); }
  }
}

/** PodSpec defaults, in place. */
export function defaultPodSpec(spec: Json): void {
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", {});
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "enableServiceLinks", true);
  const hostNetwork = spec.hostNetwork === true;
  for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const c of recs(spec, field)) defaultContainer(c, hostNetwork);
  }
  for (const v of recs(spec, "volumes")) {
    if (!VOLUME_SOURCES.some((s) => v[s] !== undefined && v[s] !== null)) v.emptyDir = {};
    for (const s of ["configMap", "secret", "downwardAPI", "projected"]) {
      const src = rec(v, s);
      if (src) setDefault(src, "defaultMode", 420);
    }
    const hp = rec(v, "hostPath");
    if (hp) setDefault(hp, "type", "");
  }
}

/** PodTemplateSpec defaults (template.spec). */
export function defaultPodTemplate(template: Json | undefined): void {
  if (!template) return;
  defaultPodSpec(ensure(template, "spec"));
}

const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const TOLERATION_OPS = ["Equal", "Exists"];
const TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"];

function validateResources(res: Json | undefined, path: string): FieldError[] {
  if (!res) return [];
  const errs: FieldError[] = [];
  const limits = rec(res, "limits") ?? {};
  const requests = rec(res, "requests") ?? {};
  for (const [name, v] of Object.entries(limits).sort()) errs.push(...validateQuantity(v, key(`${path}.limits`, name)));
  for (const [name, v] of Object.entries(requests).sort()) {
    const p = key(`${path}.requests`, name);
    const e = validateQuantity(v, p);
    errs.push(...e);
    if (e.length || limits[name] === undefined) continue;
    const rq = parseQuantity(String(v));
    const lq = parseQuantity(String(limits[name]));
    if (typeof rq !== "string" && typeof lq !== "string" && compareQuantities(rq, lq) > 0) {
      errs.push(invalid(p, formatQuantity(rq), `must be less than or equal to ${name} limit of ${formatQuantity(lq)}`));
    }
  }
  return errs;
}

function validateContainer(c: Json, path: string, volumes: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const image = str(c, "image") ?? "";
  if (image.trim() === "") errs.push(required(child(path, "image")));
  const ipp = c.imagePullPolicy;
  if (ipp !== undefined && (typeof ipp !== "string" || !PULL_POLICIES.includes(ipp))) {
    errs.push(notSupported(child(path, "imagePullPolicy"), ipp, PULL_POLICIES));
  }
  const portNames = new Set<string>();
  recs(c, "ports").forEach((p, i) => {
    const pp = index(`${path}.ports`, i);
    const name = str(p, "name");
    if (name) {
      for (const m of isValidPortName(name)) errs.push(invalid(`${pp}.name`, name, m));
      if (portNames.has(name)) errs.push(duplicate(`${pp}.name`, name));
      portNames.add(name);
    }
    const cp = num(p, "containerPort") ?? 0;
    if (cp === 0) errs.push(required(`${pp}.containerPort`));
    else for (const m of isValidPortNum(cp)) errs.push(invalid(`${pp}.containerPort`, cp, m));
    const hp = num(p, "hostPort");
    if (hp !== undefined && hp !== 0) for (const m of isValidPortNum(hp)) errs.push(invalid(`${pp}.hostPort`, hp, m));
    const proto = p.protocol;
    if (proto === undefined || proto === "") errs.push(required(`${pp}.protocol`));
    else if (typeof proto !== "string" || !PROTOCOLS.includes(proto)) errs.push(notSupported(`${pp}.protocol`, proto, PROTOCOLS));
  });
  recs(c, "env").forEach((e, i) => {
    const ep = index(`${path}.env`, i);
    const name = str(e, "name") ?? "";
    if (name === "") errs.push(required(`${ep}.name`));
    else for (const m of isEnvVarName(name)) errs.push(invalid(`${ep}.name`, name, m));
    if (e.valueFrom !== undefined && str(e, "value")) {
      errs.push(invalid(`${ep}.valueFrom`, "", "may not be specified when `value` is not empty"));
    }
  });
  const mountPaths = new Set<string>();
  recs(c, "volumeMounts").forEach((m, i) => {
    const mp = index(`${path}.volumeMounts`, i);
    const name = str(m, "name") ?? "";
    if (name === "") errs.push(required(`${mp}.name`));
    else if (!volumes.has(name)) errs.push(notFound(`${mp}.name`, name));
    const mountPath = str(m, "mountPath") ?? "";
    if (mountPath === "") errs.push(required(`${mp}.mountPath`));
    else if (mountPaths.has(mountPath)) errs.push(invalid(`${mp}.mountPath`, mountPath, "must be unique"));
    mountPaths.add(mountPath);
  });
  errs.push(...validateResources(rec(c, "resources"), `${path}.resources`));
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const p = rec(c, probe);
    if (!p) continue;
    const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => p[h] !== undefined && p[h] !== null);
    if (handlers.length === 0) errs.push(required(`${path}.${probe}`, "must specify a handler type"));
    else if (handlers.length > 1) errs.push(forbidden(`${path}.${probe}.${handlers[1]}`, "may not specify more than 1 handler type"));
    for (const f of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
      errs.push(...validateNonnegative(num(p, f), `${path}.${probe}.${f}`));
    }
  }
  return errs;
}

/** `ValidatePodSpec` (the parts users hit). `path` is e.g. "spec" or "spec.template.spec". */
export function validatePodSpec(spec: Json | undefined, path: string): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  const volumes = new Set<string>();
  recs(s, "volumes").forEach((v, i) => {
    const vp = index(`${path}.volumes`, i);
    const name = str(v, "name") ?? "";
    if (name === "") errs.push(required(`${vp}.name`));
    else {
      for (const m of isDns1123Label(name)) errs.push(invalid(`${vp}.name`, name, m));
      if (volumes.has(name)) errs.push(duplicate(`${vp}.name`, name));
    }
    volumes.add(name);
    const sources = VOLUME_SOURCES.filter((src) => v[src] !== undefined && v[src] !== null);
    if (sources.length === 0) errs.push(required(vp, "must specify a volume type"));
    else if (sources.length > 1) errs.push(forbidden(`${vp}.${sources[1]}`, "may not specify more than 1 volume type"));
    const pvc = rec(v, "persistentVolumeClaim");
    if (pvc && !str(pvc, "claimName")) errs.push(required(`${vp}.persistentVolumeClaim.claimName`));
    const cm = rec(v, "configMap");
    if (cm && !str(cm, "name")) errs.push(required(`${vp}.configMap.name`));
    const sec = rec(v, "secret");
    if (sec && !str(sec, "secretName")) errs.push(required(`${vp}.secret.secretName`));
    const hp = rec(v, "hostPath");
    if (hp && !str(hp, "path")) errs.push(required(`${vp}.hostPath.path`));
  });
  const names = new Set<string>();
  const checkName = (c: Json, cp: string): void => {
    const name = str(c, "name") ?? "";
    if (name === "") errs.push(required(`${cp}.name`));
    else {
      for (const m of isDns1123Label(name)) errs.push(invalid(`${cp}.name`, name, m));
      if (names.has(name)) errs.push(duplicate(`${cp}.name`, name));
    }
    names.add(name);
  };
  recs(s, "initContainers").forEach((c, i) => {
    const cp = index(`${path}.initContainers`, i);
    checkName(c, cp);
    errs.push(...validateContainer(c, cp, volumes));
  });
  const containers = recs(s, "containers");
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  containers.forEach((c, i) => {
    const cp = index(`${path}.containers`, i);
    checkName(c, cp);
    errs.push(...validateContainer(c, cp, volumes));
  });
  const rp = s.restartPolicy;
  if (rp === undefined || rp === "") errs.push(required(`${path}.restartPolicy`));
  else if (typeof rp !== "string" || !RESTART_POLICIES.includes(rp)) errs.push(notSupported(`${path}.restartPolicy`, rp, RESTART_POLICIES));
  const dp = s.dnsPolicy;
  if (dp === undefined || dp === "") errs.push(required(`${path}.dnsPolicy`));
  else if (typeof dp !== "string" || !DNS_POLICIES.includes(dp)) errs.push(notSupported(`${path}.dnsPolicy`, dp, DNS_POLICIES));
  const ads = num(s, "activeDeadlineSeconds");
  if (ads !== undefined && (ads < 1 || ads > 2147483647)) {
    errs.push(invalid(`${path}.activeDeadlineSeconds`, ads, inclusiveRangeError(1, 2147483647)));
  }
  errs.push(...validateNonnegative(num(s, "terminationGracePeriodSeconds"), `${path}.terminationGracePeriodSeconds`));
  const sa = str(s, "serviceAccountName");
  if (sa) for (const m of isDns1123Subdomain(sa)) errs.push(invalid(`${path}.serviceAccountName`, sa, m));
  const nodeName = str(s, "nodeName");
  if (nodeName) for (const m of isDns1123Subdomain(nodeName)) errs.push(invalid(`${path}.nodeName`, nodeName, m));
  const hostname = str(s, "hostname");
  if (hostname) for (const m of isDns1123Label(hostname)) errs.push(invalid(`${path}.hostname`, hostname, m));
  const subdomain = str(s, "subdomain");
  if (subdomain) for (const m of isDns1123Label(subdomain)) errs.push(invalid(`${path}.subdomain`, subdomain, m));
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  errs.push(...validateTolerations(recs(s, "tolerations"), `${path}.tolerations`));
  return errs;
}

/** Tolerations: key, operator and effect enums (upstream `ValidateTolerations`). */
export function validateTolerations(tols: Json[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  tols.forEach((t, i) => {
    const tp = index(path, i);
    const k = str(t, "key") ?? "";
    if (k) for (const m of isQualifiedName(k)) errs.push(invalid(`${tp}.key`, k, m));
    const op = str(t, "operator") ?? "";
    if (k === "" && op !== "Exists") errs.push(invalid(`${tp}.operator`, op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
    if (op !== "" && !TOLERATION_OPS.includes(op)) errs.push(notSupported(`${tp}.operator`, op, TOLERATION_OPS));
    if (op === "Exists" && str(t, "value")) errs.push(invalid(`${tp}.operator`, str(t, "value") ?? "", "value must be empty when `operator` is 'Exists'"));
    const eff = str(t, "effect") ?? "";
    if (eff !== "" && !TAINT_EFFECTS.includes(eff)) errs.push(notSupported(`${tp}.effect`, eff, TAINT_EFFECTS));
    if (t.tolerationSeconds !== undefined && eff !== "NoExecute") {
      errs.push(invalid(`${tp}.effect`, eff, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
  });
  return errs;
}

/**
 * A pod template (`spec.template` of workloads): labels/annotations and the pod spec, plus the
 * restart policies the owning kind allows (`allowedRestart`).
 */
export function validatePodTemplate(template: unknown, path: string, allowedRestart: readonly string[]): FieldError[] {
  if (!isRecord(template)) return [required(path)];
  const errs: FieldError[] = [];
  errs.push(...validateLabels(template.metadata !== undefined ? rec(template, "metadata")?.labels : undefined, `${path}.metadata.labels`));
  errs.push(...validateAnnotations(rec(template, "metadata")?.annotations, `${path}.metadata.annotations`));
  const spec = rec(template, "spec");
  errs.push(...validatePodSpec(spec, `${path}.spec`));
  const rp = spec?.restartPolicy;
  if (typeof rp === "string" && RESTART_POLICIES.includes(rp) && !allowedRestart.includes(rp)) {
    errs.push(notSupported(`${path}.spec.restartPolicy`, rp, allowedRestart));
  }
  return errs;
}

/** Upstream QoS class from container requests/limits (cpu and memory only). */
export function qosClass(spec: Json | undefined): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...recs(spec, "initContainers"), ...recs(spec, "containers")];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = rec(c, "resources", "requests") ?? {};
    const lim = rec(c, "resources", "limits") ?? {};
    for (const r of ["cpu", "memory"]) {
      const rv = req[r];
      const lv = lim[r];
      if (rv !== undefined || lv !== undefined) {
        const z = (v: unknown): boolean => {
          const q = parseQuantity(String(v ?? "0"));
          return typeof q === "string" || q.nanos === 0n;
        };
        if (!z(rv) || !z(lv)) any = true;
      }
      if (lv === undefined) { guaranteed = false; continue; }
      if (rv !== undefined && String(parseOr(rv)) !== String(parseOr(lv))) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function parseOr(v: unknown): bigint | string {
  const q = parseQuantity(String(v));
  return typeof q === "string" ? String(v) : q.nanos;
}

