/**
 * Per-kind registry strategies. `strategyFor(group, plural)` returns the strategy the REST layer
 * runs for a resource; unknown resources get a generic one (metadata validation, generation
 * tracking, Name/Age table, namespace scope left to the REST layer).
 */
import type { ResourceStrategy } from "../strategy.ts";
import { genericStrategy, type KindStrategy } from "./_base.ts";
import { controllerrevisions, daemonsets, deployments, replicasets, statefulsets } from "./apps.ts";
import { cronjobs, jobs } from "./batch.ts";
import {
  configmaps, endpoints, events, limitranges, namespaces, nodes, persistentvolumeclaims, persistentvolumes,
  podtemplates, resourcequotas, secrets, serviceaccounts,
} from "./core.ts";
import {
  endpointslices, eventsV1, horizontalpodautoscalers, leases, poddisruptionbudgets, priorityclasses,
} from "./misc.ts";
import { ingressclasses, ingresses, networkpolicies } from "./networking.ts";
import { pods } from "./pods.ts";
import { clusterrolebindings, clusterroles, rolebindings, roles } from "./rbac.ts";
import { services } from "./services.ts";
import { customresourcedefinitions } from "../../../apiextensions/crd_strategy.ts";

const ALL: readonly KindStrategy[] = [
  namespaces, pods, nodes, services, endpoints, configmaps, secrets, serviceaccounts, events, resourcequotas,
  limitranges, persistentvolumes, persistentvolumeclaims, podtemplates,
  deployments, replicasets, daemonsets, statefulsets, controllerrevisions,
  jobs, cronjobs, leases, endpointslices, ingresses, ingressclasses, networkpolicies,
  roles, clusterroles, rolebindings, clusterrolebindings,
  horizontalpodautoscalers, poddisruptionbudgets, priorityclasses, eventsV1,
  customresourcedefinitions,
];

const BY_RESOURCE = new Map<string, KindStrategy>(ALL.map((s) => [`${s.spec.group}/${s.spec.plural}`, s]));
const GENERIC = new Map<string, KindStrategy>();
const GENERIC_LIMIT = 10_000;

function lookup(group: string, plural: string): KindStrategy {
  const k = `${group}/${plural}`;
  const known = BY_RESOURCE.get(k);
  if (known) return known;
  let g = GENERIC.get(k);
  if (!g) {
    g = genericStrategy(group, plural);
    if (GENERIC.size < GENERIC_LIMIT) GENERIC.set(k, g);
  }
  return g;
}

/** The strategy for `group`/`plural` (core group is ""). Never throws. */
export function strategyFor(group: string, plural: string): ResourceStrategy {
  return lookup(group, plural);
}

/** True when Tugboat has a kind-specific strategy for the resource. */
export function hasKindStrategy(group: string, plural: string): boolean {
  return BY_RESOURCE.has(`${group}/${plural}`);
}

/** Whether the resource has a `status` subresource (main updates then keep the stored status). */
export function hasStatusSubresource(group: string, plural: string): boolean {
  return BY_RESOURCE.get(`${group}/${plural}`)?.spec.statusSubresource ?? false;
}

/** Whether `metadata.generation` starts at 1 and grows on spec changes. */
export function tracksGeneration(group: string, plural: string): boolean {
  return lookup(group, plural).spec.tracksGeneration;
}

/** true/false for known kinds; undefined for resources without a kind-specific strategy. */
export function isNamespacedKind(group: string, plural: string): boolean | undefined {
  return BY_RESOURCE.get(`${group}/${plural}`)?.spec.namespaced;
}

/** Kind name of a known resource ("Deployment"), e.g. for 422 messages. */
export function kindOf(group: string, plural: string): string | undefined {
  return BY_RESOURCE.get(`${group}/${plural}`)?.spec.kind;
}

/** Every kind-specific strategy's group/plural/kind (for tests and discovery cross-checks). */
export function knownResources(): { group: string; plural: string; kind: string }[] {
  return ALL.map((s) => ({ group: s.spec.group, plural: s.spec.plural, kind: s.spec.kind }));
}

export { humanDuration, shortHumanDuration, translateTimestampSince } from "./_duration.ts";
