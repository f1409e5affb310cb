/**
 * Payloads (relative path -> bytes + mode) of the projected volume types, as upstream's volume
 * plugins compute them: configMap, secret, downwardAPI and projected (configMap, secret,
 * downwardAPI, serviceAccountToken sources). Pure over an `ObjectSource`; errors are `Error`s with
 * upstream's texts (`configmap "x" not found`, `configmap references non-existent config key: k`).
 */
import { Buffer } from "node:buffer";
import type { PodObject } from "../types.ts";
import { podFieldValue, resourceFieldValue, type NodeAllocatable, type PodRuntimeFacts } from "../env/fieldpath.ts";
import { base64Bytes, dataOf, type ObjectKind, type ObjectSource } from "../env/objects.ts";
import type { FileProjection } from "./atomic-writer.ts";

/** The default file mode of configMap, secret, downwardAPI and projected volumes (0644). */
export const DEFAULT_MODE = 0o644;

export interface PayloadContext {
  readonly pod: PodObject;
  readonly objects: ObjectSource;
  readonly facts: PodRuntimeFacts;
  readonly node: NodeAllocatable;
  /** A service account token for `audience` valid `expirationSeconds` (projected serviceAccountToken sources). */
  readonly token?: (audience: string, expirationSeconds: number) => string;
}

interface KeyToPath { key?: string; path?: string; mode?: number }

const enc = new TextEncoder();

function objectPayload(
  ctx: PayloadContext, kind: ObjectKind, name: string, items: readonly KeyToPath[] | undefined, optional: boolean, mode: number,
  out: Map<string, FileProjection>,
): void {
  const got = ctx.objects.get(kind, ctx.pod.metadata?.namespace ?? "default", name);
  if ("error" in got) {
    if (optional && got.notFound) return;
    throw new Error(got.error);
  }
  const text = dataOf(got.object);
  const binary = kind === "ConfigMap" ? dataOf(got.object, "binaryData") : {};
  const bytesOf = (k: string): Uint8Array | undefined => {
    if (k in text) return kind === "Secret" ? base64Bytes(text[k]!) : enc.encode(text[k]!);
    if (k in binary) return base64Bytes(binary[k]!);
    return undefined;
  };
  if (items === undefined || items.length === 0) {
    for (const k of [...Object.keys(text), ...Object.keys(binary)]) out.set(k, { data: bytesOf(k)!, mode });
    return;
  }
  for (const it of items) {
    const data = bytesOf(it.key ?? "");
    if (data === undefined) {
      if (optional) continue;
      throw new Error(kind === "ConfigMap" ? `configmap references non-existent config key: ${it.key ?? ""}` : `references non-existent secret key: ${it.key ?? ""}`);
    }
    out.set(it.path ?? "", { data, mode: it.mode ?? mode });
  }
}

interface DownwardItem {
  path?: string;
  mode?: number;
  fieldRef?: { fieldPath?: string };
  resourceFieldRef?: { containerName?: string; resource?: string; divisor?: unknown };
}

function downwardPayload(ctx: PayloadContext, items: readonly DownwardItem[], mode: number, out: Map<string, FileProjection>): void {
  const errs: string[] = [];
  for (const it of items) {
    let value: string;
    try {
      if (it.fieldRef !== undefined) {
        value = podFieldValue(ctx.pod, it.fieldRef.fieldPath ?? "", ctx.facts, true);
      } else if (it.resourceFieldRef !== undefined) {
        const r = it.resourceFieldRef;
        const c = [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])].find((x) => x.name === r.containerName);
        if (c === undefined) throw new Error(`container ${JSON.stringify(r.containerName ?? "")} not found in pod`);
        value = resourceFieldValue(c, r.resource ?? "", r.divisor as string | number | undefined, ctx.node);
      } else {
        continue;
      }
    } catch (err) {
      errs.push(`Unable to extract field ${it.path ?? ""}: ${(err as Error).message}`);
      continue;
    }
    out.set(it.path ?? "", { data: enc.encode(value), mode: it.mode ?? mode });
  }
  if (errs.length > 0) throw new Error(errs.join("; "));
}

type Volume = NonNullable<NonNullable<PodObject["spec"]>["volumes"]>[number];

/** The payload of a configMap/secret/downwardAPI/projected volume; `undefined` for other types. */
export function volumePayload(ctx: PayloadContext, v: Volume): Map<string, FileProjection> | undefined {
  const out = new Map<string, FileProjection>();
  if (v.configMap !== undefined) {
    const s = v.configMap;
    objectPayload(ctx, "ConfigMap", s.name ?? "", s.items, s.optional === true, s.defaultMode ?? DEFAULT_MODE, out);
    return out;
  }
  if (v.secret !== undefined) {
    const s = v.secret;
    objectPayload(ctx, "Secret", s.secretName ?? "", s.items, s.optional === true, s.defaultMode ?? DEFAULT_MODE, out);
    return out;
  }
  if (v.downwardAPI !== undefined) {
    downwardPayload(ctx, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? DEFAULT_MODE, out);
    return out;
  }
  if (v.projected !== undefined) {
    const mode = v.projected.defaultMode ?? DEFAULT_MODE;
    for (const src of v.projected.sources ?? []) {
      if (src.configMap !== undefined) objectPayload(ctx, "ConfigMap", src.configMap.name ?? "", src.configMap.items, src.configMap.optional === true, mode, out);
      else if (src.secret !== undefined) objectPayload(ctx, "Secret", src.secret.name ?? "", src.secret.items, src.secret.optional === true, mode, out);
      else if (src.downwardAPI !== undefined) downwardPayload(ctx, src.downwardAPI.items ?? [], mode, out);
      else if (src.serviceAccountToken !== undefined) {
        const t = src.serviceAccountToken;
        if (ctx.token === undefined) throw new Error("service account tokens are not available on this node");
        out.set(t.path ?? "token", { data: enc.encode(ctx.token(t.audience ?? "", Number(t.expirationSeconds ?? 3600))), mode });
      }
    }
    return out;
  }
  return undefined;
}

/**
 * A service account token the agent can issue without a TokenRequest API: an unsigned JWT
 * (`alg: none`) with the claims of a bound token (iss, sub, aud, iat, nbf, exp and the
 * `kubernetes.io` pod/serviceaccount binding). Programs that only read the token's claims work;
 * the apiserver does not accept it as a credential.
 */
export function unsignedServiceAccountToken(pod: PodObject, audience: string, expirationSeconds: number, nowMs: number, issuer = "https://kubernetes.default.svc.cluster.local"): string {
  const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  const iat = Math.floor(nowMs / 1000);
  const ns = pod.metadata?.namespace ?? "default";
  const sa = pod.spec?.serviceAccountName ?? "default";
  const claims = {
    aud: [audience || issuer], exp: iat + Math.max(600, expirationSeconds), iat, iss: issuer, nbf: iat,
    sub: `system:serviceaccount:${ns}:${sa}`,
    "kubernetes.io": { namespace: ns, node: { name: pod.spec?.nodeName ?? "" }, pod: { name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" }, serviceaccount: { name: sa } },
  };
  return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.`;
}
