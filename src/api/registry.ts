/**
 * The kind registry: every built-in kind (from the `+tug:kind` markers in proto/) with its
 * group/version, resource names, scope, short names, categories and subresources, plus the body
 * kinds (`+tug:body`) that have a wire form but are not stored. Tables are built once at load.
 */
import { BODIES, KINDS } from "./generated/kinds.ts";
import { apiVersionOf } from "./object.ts";

export interface KindInfo {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** "apps/v1", or "v1" for core. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Subresource names, e.g. ["status", "scale"]. */
  readonly subresources: readonly string[];
  /** Fully-qualified protobuf message, e.g. "k8s.io.api.apps.v1.Deployment". */
  readonly protoMessage: string;
  /** Fully-qualified protobuf message of the list kind. */
  readonly listProtoMessage: string;
}

/** An API body kind that is not a stored resource (Status, DeleteOptions, Binding, Scale, Table, …). */
export interface BodyKindInfo {
  readonly apiVersion: string;
  readonly kind: string;
  readonly protoMessage: string;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const kinds: readonly KindInfo[] = Object.freeze(
  KINDS.map((k) => Object.freeze({ ...k, apiVersion: apiVersionOf(k.group, k.version) }))
    .sort((a, b) => cmp(a.group, b.group) || cmp(a.version, b.version) || cmp(a.kind, b.kind)),
);
const byResource = new Map<string, KindInfo>();
const byGvk = new Map<string, KindInfo>();
const byListGvk = new Map<string, KindInfo>();
/** lower-case plural, singular, short name and kind -> kinds (may be several across groups). */
const byName = new Map<string, KindInfo[]>();
const bodies = new Map<string, BodyKindInfo>();

for (const k of kinds) {
  byResource.set(`${k.group}/${k.version}/${k.plural}`, k);
  byGvk.set(`${k.apiVersion} ${k.kind}`, k);
  byListGvk.set(`${k.apiVersion} ${k.listKind}`, k);
  for (const n of new Set([k.plural, k.singular, k.kind.toLowerCase(), ...k.shortNames])) {
    const list = byName.get(n) ?? [];
    list.push(k);
    byName.set(n, list);
  }
}
for (const b of BODIES) bodies.set(`${b.apiVersion} ${b.kind}`, Object.freeze({ ...b }));

/** Every stored kind, sorted by group, version, kind. */
export function allKinds(): readonly KindInfo[] {
  return kinds;
}

/** The kind served at /apis/<group>/<version>/<plural> (group "" for /api/v1). */
export function kindByResource(group: string, version: string, plural: string): KindInfo | undefined {
  return byResource.get(`${group}/${version}/${plural}`);
}

/** The kind for apiVersion ("apps/v1", "v1") and kind ("Deployment"). */
export function kindByGvk(apiVersion: string, kind: string): KindInfo | undefined {
  return byGvk.get(`${apiVersion} ${kind}`);
}

/** The kind whose list kind is `listKind` ("PodList") in apiVersion. */
export function kindByListGvk(apiVersion: string, listKind: string): KindInfo | undefined {
  return byListGvk.get(`${apiVersion} ${listKind}`);
}

/**
 * Kinds a user-typed name may mean, as kubectl resolves it: plural, singular, short name or kind
 * (case-insensitive), optionally qualified with a group (`deployments.apps`, `deploy.apps`).
 * Several kinds can match (e.g. `events` in core and events.k8s.io); the core/first group comes first.
 */
export function kindsByName(name: string): readonly KindInfo[] {
  const lower = name.toLowerCase();
  const direct = byName.get(lower);
  if (direct) return direct;
  const dot = lower.indexOf(".");
  if (dot > 0) {
    const group = lower.slice(dot + 1);
    return (byName.get(lower.slice(0, dot)) ?? []).filter((k) => k.group === group);
  }
  return [];
}

/** A body kind by apiVersion and kind (e.g. "v1", "Status"; "policy/v1", "Eviction"). */
export function bodyKind(apiVersion: string, kind: string): BodyKindInfo | undefined {
  return bodies.get(`${apiVersion} ${kind}`);
}

/** Every body kind. */
export function allBodyKinds(): readonly BodyKindInfo[] {
  return [...bodies.values()];
}

/** Distinct group/versions that serve at least one kind, sorted ("" group first). */
export function groupVersions(): ReadonlyArray<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of kinds) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
}
