/**
 * Content negotiation (pure). Parses `Content-Type` of request bodies and picks the response
 * media type from `Accept`, including the Kubernetes parameters `as`, `g`, `v` used for Table,
 * PartialObjectMetadata and aggregated discovery.
 */

export const JSON_TYPE = "application/json";
export const YAML_TYPE = "application/yaml";
export const PROTOBUF_TYPE = "application/vnd.kubernetes.protobuf";
export const AGG_DISCOVERY_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
export const AGG_DISCOVERY_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

export interface MediaRange {
  readonly type: string; // lower-case "type/subtype"
  readonly params: Readonly<Record<string, string>>;
  readonly q: number;
}

/** Parses one media type (`application/json; charset=utf-8`). Returns undefined when malformed. */
export function parseMediaType(s: string): MediaRange | undefined {
  const segs = s.split(";");
  const type = (segs[0] ?? "").trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.*+-]+$|^\*\/\*$/.test(type)) return undefined;
  const params: Record<string, string> = {};
  let q = 1;
  for (const seg of segs.slice(1)) {
    const eq = seg.indexOf("=");
    if (eq < 0) continue;
    const k = seg.slice(0, eq).trim().toLowerCase();
    let v = seg.slice(eq + 1).trim();
    if (v.startsWith("\"") && v.endsWith("\"") && v.length >= 2) v = v.slice(1, -1);
    if (k === "q") {
      const n = Number(v);
      q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 1;
    } else {
      params[k] = v;
    }
  }
  return { type, params, q };
}

/** Parses an Accept header into ranges sorted by q (stable). Empty/absent header -> `*\/*`. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === "") return [{ type: "*/*", params: {}, q: 1 }];
  const out: MediaRange[] = [];
  for (const part of splitTopLevel(header)) {
    const m = parseMediaType(part);
    if (m && m.q > 0) out.push(m);
  }
  return out.map((m, i) => ({ m, i })).sort((a, b) => b.m.q - a.m.q || a.i - b.i).map((x) => x.m);
}

function splitTopLevel(header: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of header) {
    if (ch === "\"") quoted = !quoted;
    if (ch === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

/** Serializations a response body may use. */
export type Serialization = "json" | "yaml" | "protobuf";

/** How to shape the response object. */
export type Shape =
  | { readonly kind: "object" }
  | { readonly kind: "Table"; readonly version: "v1" | "v1beta1" }
  | { readonly kind: "PartialObjectMetadata"; readonly version: "v1" | "v1beta1"; readonly list: boolean }
  | { readonly kind: "APIGroupDiscoveryList"; readonly version: "v2" | "v2beta1" };

export interface Negotiated {
  readonly serialization: Serialization;
  readonly shape: Shape;
  /** The exact Content-Type to send. */
  readonly contentType: string;
}

export interface NegotiateOptions {
  /** The endpoint can produce protobuf (the kind has a proto message). */
  readonly protobuf: boolean;
  /** The endpoint can render Tables / PartialObjectMetadata (resource reads). */
  readonly transforms: boolean;
  /** The endpoint is aggregated-discovery capable (`/api`, `/apis`). */
  readonly discovery: boolean;
}

function serializationOf(type: string): Serialization | "any" | undefined {
  switch (type) {
    case "application/json":
    case "application/*":
      return type === "application/*" ? "any" : "json";
    case "application/yaml":
      return "yaml";
    case "application/vnd.kubernetes.protobuf":
      return "protobuf";
    case "*/*":
      return "any";
    default:
      return undefined;
  }
}

/** Bound on memoized Accept headers (cleared when full; clients send a handful of distinct ones). */
const NEGOTIATE_CACHE_MAX = 1024;
const negotiateCache = new Map<string, Negotiated | null>();

/**
 * Picks the response media type: the first Accept range (by q) this endpoint can honour.
 * Returns undefined when nothing is acceptable (the caller answers 406). Memoized per Accept
 * header and options; the result is frozen (shared between requests).
 */
export function negotiate(accept: string | undefined, opts: NegotiateOptions): Negotiated | undefined {
  const key = `${opts.protobuf ? 1 : 0}${opts.transforms ? 1 : 0}${opts.discovery ? 1 : 0}${accept ?? ""}`;
  const hit = negotiateCache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  const r = negotiateUncached(accept, opts);
  if (r !== undefined) {
    Object.freeze(r.shape);
    Object.freeze(r);
  }
  if (negotiateCache.size >= NEGOTIATE_CACHE_MAX) negotiateCache.clear();
  negotiateCache.set(key, r ?? null);
  return r;
}

function negotiateUncached(accept: string | undefined, opts: NegotiateOptions): Negotiated | undefined {
  for (const r of parseAccept(accept)) {
    const ser = serializationOf(r.type);
    if (ser === undefined) continue;
    const as = r.params["as"];
    if (as !== undefined) {
      const g = r.params["g"];
      const v = r.params["v"];
      if (ser !== "json" && ser !== "protobuf") continue;
      if (as === "APIGroupDiscoveryList") {
        if (!opts.discovery || g !== "apidiscovery.k8s.io" || ser !== "json") continue;
        if (v !== "v2" && v !== "v2beta1") continue;
        return {
          serialization: "json", shape: { kind: "APIGroupDiscoveryList", version: v },
          contentType: v === "v2" ? AGG_DISCOVERY_V2 : AGG_DISCOVERY_V2BETA1,
        };
      }
      if (!opts.transforms || g !== "meta.k8s.io" || (v !== "v1" && v !== "v1beta1")) continue;
      // Tables and partial metadata are served as JSON only (protobuf Table is not implemented).
      if (ser !== "json") continue;
      const contentType = `application/json;as=${as};g=meta.k8s.io;v=${v}`;
      if (as === "Table") return { serialization: "json", shape: { kind: "Table", version: v }, contentType };
      if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") {
        return {
          serialization: "json",
          shape: { kind: "PartialObjectMetadata", version: v, list: as === "PartialObjectMetadataList" },
          contentType,
        };
      }
      continue;
    }
    if (ser === "any") return { serialization: "json", shape: { kind: "object" }, contentType: JSON_TYPE };
    if (ser === "protobuf" && !opts.protobuf) continue;
    const contentType = ser === "json" ? JSON_TYPE : ser === "yaml" ? YAML_TYPE : PROTOBUF_TYPE;
    return { serialization: ser, shape: { kind: "object" }, contentType };
  }
  return undefined;
}

/** Request body formats. */
export type BodyFormat =
  | "json" | "yaml" | "protobuf"
  | "json-patch" | "merge-patch" | "strategic-merge-patch" | "apply-patch";

/** Maps a request Content-Type to a body format; undefined: unsupported (415). */
export function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  // Upstream treats a missing Content-Type on a body as JSON.
  if (contentType === undefined || contentType.trim() === "") return "json";
  const m = parseMediaType(contentType);
  if (!m) return undefined;
  switch (m.type) {
    case "application/json": return "json";
    case "application/yaml": return "yaml";
    case "application/vnd.kubernetes.protobuf": return "protobuf";
    case "application/json-patch+json": return "json-patch";
    case "application/merge-patch+json": return "merge-patch";
    case "application/strategic-merge-patch+json": return "strategic-merge-patch";
    case "application/apply-patch+yaml": return "apply-patch";
    default: return undefined;
  }
}
