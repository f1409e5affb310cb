/**
 * What the apiserver serves, from its aggregated discovery (`/api` and `/apis` with
 * `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`): the resources
 * the garbage collector and the namespace controller act on, custom resources included.
 *
 * `parseAggregatedDiscovery` and `preferredResources` are pure; `CachedDiscovery` keeps the last
 * answer for a maximum age (30 s by default), coalesces concurrent fetches and can be invalidated
 * (a 404 for a resource, a CRD event); `discoveryFor(client)` shares one cache per client, so the
 * controllers of one manager fetch once.
 */
import { kindByGvk } from "../../api/registry.ts";
import type { Client } from "../../client/client.ts";
import { decodeBody } from "../../client/encoding.ts";
import type { ResourceRef } from "../../client/resource.ts";
import type { ResourceId } from "../framework/resources.ts";

export const AGGREGATED_DISCOVERY_ACCEPT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
export const DEFAULT_MAX_AGE_MS = 30_000;

/** One top-level resource in one served version. */
export interface DiscoveredResource extends ResourceRef {
  readonly kind: string;
  readonly verbs: readonly string[];
}

/** `group/version` ("v1" for the core group). */
export function apiVersionOf(d: { readonly group: string; readonly version: string }): string {
  return d.group === "" ? d.version : `${d.group}/${d.version}`;
}

export function resourceIdOf(d: DiscoveredResource): ResourceId {
  return { apiVersion: apiVersionOf(d), kind: d.kind };
}

/** True when the client library knows the kind (typed, protobuf-capable access through the shared factory). */
export function isBuiltIn(d: { readonly apiVersion: string; readonly kind: string }): boolean {
  return kindByGvk(d.apiVersion, d.kind) !== undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function arrayAt(o: Record<string, unknown>, key: string, where: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new TypeError(`aggregated discovery: ${where}.${key} is not a list`);
  return v;
}

/**
 * The resources of an APIGroupDiscoveryList (v2 or v2beta1), in document order (groups, then
 * versions in preference order). Subresources are left out. Throws `TypeError` naming the place
 * for anything that is not an APIGroupDiscoveryList.
 */
export function parseAggregatedDiscovery(doc: unknown): DiscoveredResource[] {
  if (!isRecord(doc) || doc["kind"] !== "APIGroupDiscoveryList") {
    throw new TypeError(`aggregated discovery: expected an APIGroupDiscoveryList, got ${isRecord(doc) ? String(doc["kind"]) : typeof doc}`);
  }
  const out: DiscoveredResource[] = [];
  for (const [gi, g] of arrayAt(doc, "items", "").entries()) {
    if (!isRecord(g)) throw new TypeError(`aggregated discovery: items[${gi}] is not an object`);
    const md = isRecord(g["metadata"]) ? g["metadata"] : {};
    const group = typeof md["name"] === "string" ? md["name"] : "";
    for (const [vi, v] of arrayAt(g, "versions", `items[${gi}]`).entries()) {
      if (!isRecord(v) || typeof v["version"] !== "string" || v["version"] === "") {
        throw new TypeError(`aggregated discovery: items[${gi}].versions[${vi}] has no version`);
      }
      const version = v["version"];
      for (const [ri, r] of arrayAt(v, "resources", `items[${gi}].versions[${vi}]`).entries()) {
        const where = `items[${gi}].versions[${vi}].resources[${ri}]`;
        if (!isRecord(r) || typeof r["resource"] !== "string" || r["resource"] === "") throw new TypeError(`aggregated discovery: ${where} has no resource name`);
        const rk = isRecord(r["responseKind"]) ? r["responseKind"] : {};
        const kind = rk["kind"];
        if (typeof kind !== "string" || kind === "") throw new TypeError(`aggregated discovery: ${where} has no responseKind.kind`);
        const verbs = arrayAt(r, "verbs", where).filter((x): x is string => typeof x === "string");
        out.push({ group, version, plural: r["resource"], kind, namespaced: r["scope"] === "Namespaced", verbs });
      }
    }
  }
  return out;
}

/**
 * One entry per (group, resource): the first version that serves it (aggregated discovery lists
 * versions in preference order), as upstream's "server preferred resources".
 */
export function preferredResources(all: readonly DiscoveredResource[]): DiscoveredResource[] {
  const seen = new Set<string>();
  const out: DiscoveredResource[] = [];
  for (const r of all) {
    const k = `${r.group}/${r.plural}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

/** True when the resource supports every verb in `verbs`. */
export function supports(r: DiscoveredResource, ...verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}

/** Where resources come from (the apiserver, or a fixed list in tests). */
export interface DiscoverySource {
  /** Every served resource, fetched again when the last answer is older than `maxAgeMs`. Rejects when discovery fails. */
  resources(maxAgeMs?: number): Promise<readonly DiscoveredResource[]>;
  /** The last answer without fetching ([] before the first). */
  cached(): readonly DiscoveredResource[];
  /** Makes the next `resources()` fetch. */
  invalidate(): void;
}

export class CachedDiscovery implements DiscoverySource {
  private last: readonly DiscoveredResource[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<readonly DiscoveredResource[]> | undefined;
  private generation = 0;
  /** Fetches done (for tests and metrics). */
  fetches = 0;

  constructor(private readonly fetch: () => Promise<DiscoveredResource[]>, private readonly clock: () => number = () => performance.now()) {}

  async resources(maxAgeMs = DEFAULT_MAX_AGE_MS): Promise<readonly DiscoveredResource[]> {
    if (this.clock() - this.fetchedAt <= maxAgeMs) return this.last;
    if (this.inflight) return this.inflight;
    const gen = this.generation;
    const started = this.clock();
    this.fetches++;
    const p = this.fetch().then((r) => {
      // An invalidation while fetching leaves the answer usable but stale.
      if (gen === this.generation) this.fetchedAt = started;
      this.last = r;
      return r;
    }).finally(() => {
      this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  cached(): readonly DiscoveredResource[] {
    return this.last;
  }

  invalidate(): void {
    this.generation++;
    this.fetchedAt = Number.NEGATIVE_INFINITY;
  }
}

async function fetchAggregated(client: Client, path: "/api" | "/apis"): Promise<DiscoveredResource[]> {
  const res = await client.rest.request({ method: "GET", path, accept: AGGREGATED_DISCOVERY_ACCEPT, timeoutMs: 30_000 });
  if (res.status !== 200) throw new Error(`discovery ${path}: HTTP ${res.status}`);
  return parseAggregatedDiscovery(decodeBody(res.body, res.headers["content-type"]));
}

const shared = new WeakMap<Client, CachedDiscovery>();

/** The discovery cache of a client (one per client, shared by its controllers). */
export function discoveryFor(client: Client): CachedDiscovery {
  let d = shared.get(client);
  if (!d) {
    d = new CachedDiscovery(async () => {
      const [core, groups] = await Promise.all([fetchAggregated(client, "/api"), fetchAggregated(client, "/apis")]);
      return [...core, ...groups];
    });
    shared.set(client, d);
  }
  return d;
}

/** A fixed list (tests). */
export class StaticDiscovery implements DiscoverySource {
  invalidations = 0;
  constructor(public list: DiscoveredResource[]) {}
  async resources(): Promise<readonly DiscoveredResource[]> {
    return this.list;
  }
  cached(): readonly DiscoveredResource[] {
    return this.list;
  }
  invalidate(): void {
    this.invalidations++;
  }
}
