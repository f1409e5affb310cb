/**
 * Built-in admission: the plugins kube-apiserver enables by default that matter for workloads,
 * in upstream's order. See docs/admission.md.
 *
 * Mutating:   NamespaceLifecycle, LimitRanger, ServiceAccount, TaintNodesByCondition, Priority,
 *             DefaultTolerationSeconds, ResourceQuota (status of quota objects only)
 * Validating: LimitRanger, Priority, ResourceQuota
 *
 * Not here: PodSecurity, DefaultStorageClass, StorageObjectInUseProtection, RuntimeClass,
 * certificate plugins, DefaultIngressClass, webhooks and ValidatingAdmissionPolicy.
 */
import type { ServerCore } from "../context.ts";
import { AdmissionChain, attachAdmission } from "./chain.ts";
import { createAdmissionHost } from "./host.ts";
import { defaultTolerationSeconds } from "./plugins/defaulttolerationseconds.ts";
import { limitRanger } from "./plugins/limitranger.ts";
import { namespaceLifecycle } from "./plugins/namespacelifecycle.ts";
import { taintNodesByCondition } from "./plugins/nodetaint.ts";
import { priorityAdmission } from "./plugins/priority.ts";
import { resourceQuota } from "./plugins/resourcequota.ts";
import { serviceAccount } from "./plugins/serviceaccount.ts";
import type { AdmissionHost } from "./types.ts";

export { AdmissionChain, admissionOf, attachAdmission, attributesFor } from "./chain.ts";
export type * from "./types.ts";
export { createAdmissionHost } from "./host.ts";
export { SYSTEM_PRIORITY_CLASSES } from "./plugins/priority.ts";

export const DEFAULT_PLUGINS = [
  "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "TaintNodesByCondition", "Priority",
  "DefaultTolerationSeconds", "ResourceQuota",
] as const;

export type PluginName = (typeof DEFAULT_PLUGINS)[number];

export interface AdmissionOptions {
  /** Plugins to leave out (default: none). */
  readonly disable?: readonly PluginName[];
  /** `--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds` (300). */
  readonly notReadyTolerationSeconds?: number;
  readonly unreachableTolerationSeconds?: number;
}

/** The default chain over `host`. */
export function defaultAdmissionChain(host: AdmissionHost, opts: AdmissionOptions = {}): AdmissionChain {
  const off = new Set<string>(opts.disable ?? []);
  const on = (n: PluginName): boolean => !off.has(n);
  const lr = limitRanger(host);
  const pr = priorityAdmission(host);
  const rq = resourceQuota(host);
  const mutating = [
    on("NamespaceLifecycle") ? namespaceLifecycle(host) : undefined,
    on("LimitRanger") ? lr : undefined,
    on("ServiceAccount") ? serviceAccount(host) : undefined,
    on("TaintNodesByCondition") ? taintNodesByCondition() : undefined,
    on("Priority") ? pr : undefined,
    on("DefaultTolerationSeconds") ? defaultTolerationSeconds({
      ...(opts.notReadyTolerationSeconds !== undefined ? { notReadySeconds: opts.notReadyTolerationSeconds } : {}),
      ...(opts.unreachableTolerationSeconds !== undefined ? { unreachableSeconds: opts.unreachableTolerationSeconds } : {}),
    }) : undefined,
    on("ResourceQuota") ? rq : undefined,
  ].filter((p) => p !== undefined);
  const validating = [on("LimitRanger") ? lr : undefined, on("Priority") ? pr : undefined, on("ResourceQuota") ? rq : undefined]
    .filter((p) => p !== undefined);
  return new AdmissionChain(mutating, validating);
}

/** Builds the default chain for a server core and attaches it (the REST write path uses it). */
export function installDefaultAdmission(core: ServerCore, opts: AdmissionOptions = {}): AdmissionChain {
  const chain = defaultAdmissionChain(createAdmissionHost(core), opts);
  attachAdmission(core, chain);
  return chain;
}
