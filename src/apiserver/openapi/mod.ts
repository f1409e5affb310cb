/**
 * The OpenAPI endpoints, generated from the project's schema table:
 *
 * - `GET /openapi/v3` — `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"}, …}}`
 * - `GET /openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>` — OpenAPI 3.0 JSON of one
 *   group/version. `hash` is the SHA-512 (upper-case hex) of those bytes. A request with the current
 *   hash gets `Cache-Control: public, immutable`; one with a stale hash is redirected (301) to the
 *   current URL, as kube-apiserver does.
 * - `GET /openapi/v2` — Swagger 2.0: gnostic protobuf when Accept names
 *   `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (kubectl) or its `.v1.0` spelling
 *   (answered with the `.v1.0` Content-Type, which Go's mime parser accepts), JSON otherwise.
 *
 * Documents are built on first use and kept as serialized bytes (gzip variants too, made on first
 * demand). Every response carries an ETag and honours If-None-Match (304).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { allKinds, type KindInfo } from "../../api/registry.ts";
import type { HttpResponse } from "../../transport/types.ts";
import { encodeGnosticDocument } from "./gnostic.ts";
import { swaggerDocument } from "./v2.ts";
import { groupVersionDocument, groupVersionsOf, gvKey, rootDocument } from "./v3.ts";
import { dynamicGroupVersions, dynamicV3Document, withDynamicV2, type DynamicOpenApiSource } from "./dynamic.ts";

export interface OpenApiOptions {
  /** Served kinds (default: every kind in the registry). */
  readonly kinds?: readonly KindInfo[];
  /** `info.version` of the documents (default "v1.32.0"). */
  readonly version?: string;
  /** Kinds added at run time (custom resources); their documents are rebuilt when they change. */
  readonly dynamic?: DynamicOpenApiSource;
}

/** Request headers the service looks at (lower-case names, as in `HttpRequest.headers`). */
export type OpenApiHeaders = Readonly<Record<string, string | undefined>>;

export interface OpenApiService {
  /**
   * Answers GET/HEAD requests under `/openapi/`; undefined for any other path (the caller 404s or
   * routes it elsewhere). Unknown group/versions under `/openapi/v3/` get a 404 Status, an Accept
   * that allows no servable type a 406.
   */
  handle(path: string, query: URLSearchParams, accept: string, headers?: OpenApiHeaders): HttpResponse | undefined;
}

/** What kubectl asks for (the deprecated spelling; Go's mime parser rejects the `@`). */
export const GNOSTIC_V2_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/** The spelling that is both accepted and returned as Content-Type, as kube-apiserver does. */
export const GNOSTIC_V2_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
const GZIP_MIN = 128 * 1024;

/** Serialized bytes with their validators, gzipped lazily. */
class Blob {
  readonly hash: string;
  readonly etag: string;
  private gz: Uint8Array | undefined;

  constructor(readonly bytes: Uint8Array, readonly contentType: string) {
    this.hash = createHash("sha512").update(bytes).digest("hex").toUpperCase();
    this.etag = `"${this.hash}"`;
  }

  gzipped(): Uint8Array {
    this.gz ??= gzipSync(this.bytes);
    return this.gz;
  }
}

const encoder = new TextEncoder();

function jsonBlob(value: unknown): Blob {
  return new Blob(encoder.encode(JSON.stringify(value)), "application/json");
}

function acceptsGzip(ae: string | undefined): boolean {
  return ae !== undefined && /(^|,)\s*gzip\s*(;\s*q=(0?\.0*[1-9]|1)[0-9.]*)?\s*(,|$)/i.test(ae);
}

function status(code: number, reason: string, message: string): HttpResponse {
  const body = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  return { status: code, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

interface AcceptRange {
  readonly type: string;
  readonly q: number;
}

function parseAccept(accept: string): AcceptRange[] {
  if (accept.trim() === "") return [{ type: "*/*", q: 1 }];
  const out: AcceptRange[] = [];
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim());
    if (type === "") continue;
    let q = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (q > 0) out.push({ type: type.toLowerCase(), q });
  }
  return out;
}

/** The first acceptable offer by the client's preference (ties: the client's order). */
function pick(accept: string, offers: readonly string[]): string | undefined {
  const ranges = parseAccept(accept).map((r, i) => ({ ...r, i })).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    if (r.type === "*/*" || r.type === "application/*") return offers[0];
    const hit = offers.find((o) => o === r.type);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

export function createOpenApiService(opts: OpenApiOptions = {}): OpenApiService {
  const version = opts.version ?? "v1.32.0";
  let v3: { root: Blob; docs: Map<string, Blob> } | undefined;
  let v2json: Blob | undefined;
  let v2proto: Blob | undefined;
  let v2doc: ReturnType<typeof swaggerDocument> | undefined;

  const kinds = (): readonly KindInfo[] => opts.kinds ?? allKinds();

  let builtIn: Map<string, Blob> | undefined;
  let seenGen = -1;
  const buildV3 = (): { root: Blob; docs: Map<string, Blob> } => {
    const gen = opts.dynamic?.generation() ?? 0;
    if (v3 && gen === seenGen) return v3;
    if (!builtIn) {
      builtIn = new Map<string, Blob>();
      const ks = kinds();
      for (const gv of groupVersionsOf(ks)) builtIn.set(gvKey(gv), jsonBlob(groupVersionDocument(ks, gv, version)));
    }
    const docs = new Map<string, Blob>(builtIn);
    const dyn = opts.dynamic?.kinds() ?? [];
    for (const gv of dynamicGroupVersions(dyn)) {
      if (!docs.has(gvKey(gv))) docs.set(gvKey(gv), jsonBlob(dynamicV3Document(dyn, gv, version)));
    }
    const hashes = new Map<string, string>();
    for (const [k, b] of docs) hashes.set(k, b.hash);
    v3 = { root: jsonBlob(rootDocument(hashes)), docs };
    if (gen !== seenGen) {
      // The v2 document covers everything: rebuild it on the next request.
      v2json = undefined;
      v2proto = undefined;
      v2doc = undefined;
      seenGen = gen;
    }
    return v3;
  };
  let v2base: ReturnType<typeof swaggerDocument> | undefined;
  const swagger = (): ReturnType<typeof swaggerDocument> => {
    buildV3(); // notices a generation change
    v2base ??= swaggerDocument(kinds(), version);
    return (v2doc ??= withDynamicV2(v2base, opts.dynamic?.kinds() ?? []));
  };

  const send = (blob: Blob, headers: OpenApiHeaders, extra: Record<string, string>): HttpResponse => {
    const base: Record<string, string> = { etag: blob.etag, vary: "Accept, Accept-Encoding", ...extra };
    const inm = headers["if-none-match"];
    if (inm !== undefined && inm.split(",").some((t) => t.trim() === blob.etag || t.trim() === "*")) {
      return { status: 304, headers: base };
    }
    if (blob.bytes.length >= GZIP_MIN && acceptsGzip(headers["accept-encoding"])) {
      return { status: 200, headers: { ...base, "content-type": blob.contentType, "content-encoding": "gzip" }, body: blob.gzipped() };
    }
    return { status: 200, headers: { ...base, "content-type": blob.contentType }, body: blob.bytes };
  };

  return {
    handle(path, query, accept, headers = {}) {
      if (path !== "/openapi" && !path.startsWith("/openapi/")) return undefined;
      const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
      if (p === "/openapi/v2") {
        const type = pick(accept, ["application/json", GNOSTIC_V2_ACCEPT, GNOSTIC_V2_TYPE]);
        if (type === undefined) return status(406, "NotAcceptable", `only the following media types are accepted: application/json, ${GNOSTIC_V2_TYPE}`);
        if (type === "application/json") {
          const doc = swagger();
          v2json ??= jsonBlob(doc);
          return send(v2json, headers, { "cache-control": "no-cache, private" });
        }
        const doc = swagger();
        v2proto ??= new Blob(encodeGnosticDocument(doc), GNOSTIC_V2_TYPE);
        return send(v2proto, headers, { "cache-control": "no-cache, private" });
      }
      if (p === "/openapi/v3") {
        if (pick(accept, ["application/json"]) === undefined) return status(406, "NotAcceptable", "only application/json is served here");
        return send(buildV3().root, headers, { "cache-control": "no-cache, private" });
      }
      if (p.startsWith("/openapi/v3/")) {
        const key = p.slice("/openapi/v3/".length);
        const blob = buildV3().docs.get(key);
        if (!blob) return status(404, "NotFound", "the server could not find the requested resource");
        if (pick(accept, ["application/json"]) === undefined) return status(406, "NotAcceptable", "only application/json is served here");
        const hash = query.get("hash");
        if (hash !== null && hash !== "" && hash !== blob.hash) {
          return { status: 301, headers: { location: `/openapi/v3/${key}?hash=${blob.hash}`, "cache-control": "no-cache, private" } };
        }
        const cache: Record<string, string> = hash === blob.hash
          ? { "cache-control": "public, immutable", expires: new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString() }
          : { "cache-control": "no-cache, private" };
        return send(blob, headers, cache);
      }
      return status(404, "NotFound", "the server could not find the requested resource");
    },
  };
}
