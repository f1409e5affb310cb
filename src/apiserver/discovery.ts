/**
 * Discovery documents (pure): legacy APIVersions / APIGroupList / APIGroup / APIResourceList and
 * aggregated APIGroupDiscoveryList (apidiscovery.k8s.io v2 and v2beta1), from the served kinds.
 */
import { createHash } from "node:crypto";
import type { KindInfo } from "./ports.ts";

export const RESOURCE_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] as const;

interface SubresourceDef {
  readonly verbs: readonly string[];
  /** Response kind when it differs from the parent's. */
  readonly gvk?: { readonly group: string; readonly version: string; readonly kind: string };
}

/** Known subresources and what they answer. Unknown names get `get`. */
const SUBRESOURCES: Record<string, SubresourceDef> = {
  status: { verbs: ["get", "patch", "update"] },
  scale: { verbs: ["get", "patch", "update"], gvk: { group: "autoscaling", version: "v1", kind: "Scale" } },
  binding: { verbs: ["create"], gvk: { group: "", version: "v1", kind: "Binding" } },
  eviction: { verbs: ["create"], gvk: { group: "policy", version: "v1", kind: "Eviction" } },
  log: { verbs: ["get"] },
  exec: { verbs: ["create", "get"], gvk: { group: "", version: "v1", kind: "PodExecOptions" } },
  attach: { verbs: ["create", "get"], gvk: { group: "", version: "v1", kind: "PodAttachOptions" } },
  portforward: { verbs: ["create", "get"], gvk: { group: "", version: "v1", kind: "PodPortForwardOptions" } },
  proxy: { verbs: ["create", "delete", "get", "patch", "update"], gvk: { group: "", version: "v1", kind: "NodeProxyOptions" } },
  finalize: { verbs: ["update"] },
  ephemeralcontainers: { verbs: ["get", "patch", "update"] },
  resize: { verbs: ["get", "patch", "update"] },
  token: { verbs: ["create"], gvk: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" } },
  approval: { verbs: ["get", "patch", "update"] },
};

function subDef(name: string, k: KindInfo): SubresourceDef {
  const d = SUBRESOURCES[name] ?? { verbs: ["get"] };
  if (name === "proxy" && k.plural === "services") return { ...d, gvk: { group: "", version: "v1", kind: "ServiceProxyOptions" } };
  if (name === "proxy" && k.plural === "pods") return { ...d, gvk: { group: "", version: "v1", kind: "PodProxyOptions" } };
  return d;
}

/** upstream's storageVersionHash: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>"). */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash("sha256").update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString("base64");
}

export function groupVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

export function apiVersions(serverAddress: string): unknown {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

/** Groups (non-core) in first-seen order with their versions in first-seen order. */
export function groupsOf(kinds: readonly KindInfo[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of kinds) {
    if (k.group === "") continue;
    const vs = out.get(k.group) ?? [];
    if (!vs.includes(k.version)) vs.push(k.version);
    out.set(k.group, vs);
  }
  return out;
}

function apiGroup(name: string, versions: readonly string[]): unknown {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(kinds: readonly KindInfo[]): unknown {
  return { kind: "APIGroupList", apiVersion: "v1", groups: [...groupsOf(kinds)].map(([g, vs]) => apiGroup(g, vs)) };
}

export function apiGroupDoc(kinds: readonly KindInfo[], group: string): unknown | undefined {
  const vs = groupsOf(kinds).get(group);
  return vs ? { kind: "APIGroup", apiVersion: "v1", ...(apiGroup(group, vs) as object) } : undefined;
}

export function apiResourceList(kinds: readonly KindInfo[], group: string, version: string): unknown | undefined {
  const mine = kinds.filter((k) => k.group === group && k.version === version);
  if (mine.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const k of mine) {
    resources.push({
      name: k.plural, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: [...RESOURCE_VERBS],
      ...(k.shortNames.length ? { shortNames: [...k.shortNames] } : {}),
      ...(k.categories.length ? { categories: [...k.categories] } : {}),
      storageVersionHash: storageVersionHash(k.group, k.version, k.kind),
    });
    for (const s of [...k.subresources].sort()) {
      const d = subDef(s, k);
      resources.push({
        name: `${k.plural}/${s}`, singularName: k.singular, namespaced: k.namespaced, kind: d.gvk?.kind ?? k.kind,
        verbs: [...d.verbs],
        ...(d.gvk && (d.gvk.group !== k.group || d.gvk.version !== k.version) ? { group: d.gvk.group, version: d.gvk.version } : {}),
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersionOf(group, version), resources };
}

function discoveryResource(k: KindInfo): unknown {
  return {
    resource: k.plural,
    responseKind: { group: k.group, version: k.version, kind: k.kind },
    scope: k.namespaced ? "Namespaced" : "Cluster",
    singularResource: k.singular,
    verbs: [...RESOURCE_VERBS],
    ...(k.shortNames.length ? { shortNames: [...k.shortNames] } : {}),
    ...(k.categories.length ? { categories: [...k.categories] } : {}),
    ...(k.subresources.length
      ? {
        subresources: [...k.subresources].sort().map((s) => {
          const d = subDef(s, k);
          return { subresource: s, responseKind: d.gvk ?? { group: k.group, version: k.version, kind: k.kind }, verbs: [...d.verbs] };
        }),
      }
      : {}),
  };
}

/** Aggregated discovery for `/api` (prefix "api": the core group) or `/apis` (all others). */
export function aggregatedDiscovery(kinds: readonly KindInfo[], prefix: "api" | "apis", version: "v2" | "v2beta1"): unknown {
  const items: unknown[] = [];
  const byGroup = new Map<string, Map<string, KindInfo[]>>();
  for (const k of kinds) {
    if ((prefix === "api") !== (k.group === "")) continue;
    const g = byGroup.get(k.group) ?? new Map<string, KindInfo[]>();
    g.set(k.version, [...(g.get(k.version) ?? []), k]);
    byGroup.set(k.group, g);
  }
  for (const [group, versions] of byGroup) {
    items.push({
      metadata: { ...(group ? { name: group } : {}), creationTimestamp: null },
      versions: [...versions].map(([v, ks]) => ({ version: v, resources: ks.map(discoveryResource), freshness: "Current" })),
    });
  }
  return { kind: "APIGroupDiscoveryList", apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

/** `/version`. kubectl's dispatcher picks its binary from `minor`. */
export interface VersionInfo {
  readonly major: string;
  readonly minor: string;
  readonly gitVersion: string;
  readonly gitCommit: string;
  readonly gitTreeState: string;
  readonly buildDate: string;
  readonly goVersion: string;
  readonly compiler: string;
  readonly platform: string;
}

export function defaultVersion(): VersionInfo {
  return {
    major: "1", minor: "32", gitVersion: "v1.32.0-tugboat", gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean", buildDate: "2026-01-01T00:00:00Z", goVersion: `node${process.versions.node}`,
    compiler: "tsc", platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
  };
}
