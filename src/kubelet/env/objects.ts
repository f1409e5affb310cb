/**
 * Where the node agent reads ConfigMaps, Secrets and Services from (`ObjectSource`), and the
 * references a pod makes (`podReferences`). The API-backed source is `WatchingObjectSource`
 * (./watching.ts); tests use `MapObjectSource`.
 */
import { Buffer } from "node:buffer";
import type { KubeObject } from "../../api/object.ts";
import type { PodObject } from "../types.ts";

export type ObjectKind = "ConfigMap" | "Secret";

/** Result of a lookup: the object, or a NotFound-style error text (`configmap "x" not found`). */
export type Lookup = { readonly object: KubeObject } | { readonly error: string; readonly notFound: boolean };

export interface ObjectSource {
  /** The object as last seen (synchronous: the source keeps a cache of what pods reference). */
  get(kind: ObjectKind, namespace: string, name: string): Lookup;
  /** Services of a namespace with a cluster IP (for service environment variables). */
  services(namespace: string): readonly KubeObject[];
}

/** The kubelet's NotFound text (`configmap "x" not found`, `secret "x" not found`). */
export function notFoundText(kind: ObjectKind, name: string): string {
  return `${kind === "ConfigMap" ? "configmap" : "secret"} ${JSON.stringify(name)} not found`;
}

/** One object a pod needs. */
export interface ObjectRef {
  readonly kind: ObjectKind;
  readonly name: string;
}

/** Every ConfigMap and Secret the pod references (env, envFrom, volumes, projected sources), deduplicated. */
export function podReferences(pod: PodObject): ObjectRef[] {
  const out = new Map<string, ObjectRef>();
  const add = (kind: ObjectKind, name: string | undefined): void => {
    if (name) out.set(`${kind}/${name}`, { kind, name });
  };
  const spec = pod.spec ?? {};
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const e of c.env ?? []) {
      add("ConfigMap", e.valueFrom?.configMapKeyRef?.name);
      add("Secret", e.valueFrom?.secretKeyRef?.name);
    }
    for (const f of c.envFrom ?? []) {
      add("ConfigMap", f.configMapRef?.name);
      add("Secret", f.secretRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add("ConfigMap", v.configMap?.name);
    add("Secret", v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      add("ConfigMap", s.configMap?.name);
      add("Secret", s.secret?.name);
    }
  }
  return [...out.values()];
}

/** An in-memory source (tests, hollow fleets). */
export class MapObjectSource implements ObjectSource {
  readonly objects = new Map<string, KubeObject>();
  readonly svc: KubeObject[] = [];

  static key(kind: ObjectKind, ns: string, name: string): string {
    return `${kind}/${ns}/${name}`;
  }

  put(kind: ObjectKind, obj: KubeObject): this {
    this.objects.set(MapObjectSource.key(kind, obj.metadata?.namespace ?? "default", obj.metadata?.name ?? ""), obj);
    return this;
  }

  get(kind: ObjectKind, namespace: string, name: string): Lookup {
    const o = this.objects.get(MapObjectSource.key(kind, namespace, name));
    return o !== undefined ? { object: o } : { error: notFoundText(kind, name), notFound: true };
  }

  services(namespace: string): readonly KubeObject[] {
    return this.svc.filter((s) => (s.metadata?.namespace ?? "default") === namespace);
  }
}

/** Decodes a Secret's base64 `data` value to text (invalid input decodes leniently, as Buffer does). */
export function secretValue(b64: string): string {
  return Buffer.from(b64, "base64").toString("utf8");
}

/** Bytes of a Secret `data` / ConfigMap `binaryData` value. */
export function base64Bytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, "base64"));
}

/** `data` of a ConfigMap/Secret as a string map (empty when absent or malformed). */
export function dataOf(obj: KubeObject, field: "data" | "binaryData" = "data"): Record<string, string> {
  const d = obj[field];
  if (typeof d !== "object" || d === null || Array.isArray(d)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) if (typeof v === "string") out[k] = v;
  return out;
}
