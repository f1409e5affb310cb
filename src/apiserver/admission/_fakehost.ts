/**
 * Test double of `AdmissionHost`: objects in a map keyed by `group/plural/namespace/name`, with a
 * fixed clock and a record of status writes.
 */
import { ApiError } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import type { AdmissionAttributes, AdmissionHost, HostObject, Operation } from "./types.ts";

export interface FakeHost extends AdmissionHost {
  put(group: string, plural: string, obj: KubeObject): void;
  remove(group: string, plural: string, namespace: string, name: string): void;
  readonly statusWrites: { plural: string; name: string; status: unknown }[];
}

export function fakeHost(now = new Date("2024-01-01T00:00:00Z")): FakeHost {
  const objs = new Map<string, { group: string; plural: string; obj: KubeObject; rev: number }>();
  let rev = 1;
  const key = (g: string, p: string, ns: string, n: string) => `${g}/${p}/${ns}/${n}`;
  const statusWrites: FakeHost["statusWrites"] = [];
  return {
    statusWrites,
    now: () => now,
    has: () => true,
    put(group, plural, obj) {
      rev++;
      const o = structuredClone(obj);
      o.metadata = { uid: `uid-${o.metadata?.name ?? ""}-${rev}`, ...(o.metadata ?? {}), resourceVersion: String(rev) };
      objs.set(key(group, plural, o.metadata.namespace ?? "", o.metadata.name ?? ""), { group, plural, obj: o, rev });
    },
    remove(group, plural, namespace, name) {
      objs.delete(key(group, plural, namespace, name));
    },
    async get(group, plural, namespace, name): Promise<HostObject | undefined> {
      const e = objs.get(key(group, plural, namespace, name));
      return e ? { object: structuredClone(e.obj), modRevision: e.rev } : undefined;
    },
    async list(group, plural, namespace): Promise<HostObject[]> {
      return [...objs.values()]
        .filter((e) => e.group === group && e.plural === plural && (namespace === "" || e.obj.metadata?.namespace === namespace))
        .map((e) => ({ object: structuredClone(e.obj), modRevision: e.rev }));
    },
    async updateStatus(group, plural, namespace, name, mutate) {
      const e = objs.get(key(group, plural, namespace, name));
      if (!e) return;
      const next = mutate(structuredClone(e.obj));
      if (!next) return;
      statusWrites.push({ plural, name, status: structuredClone(next["status"]) });
      rev++;
      objs.set(key(group, plural, namespace, name), { ...e, obj: next, rev });
    },
  };
}

/** Attributes of a request on a core (group "") or named-group resource. */
export function attrs(p: {
  operation: Operation; resource: string; kind: string; namespace?: string; name?: string; group?: string;
  object?: KubeObject; oldObject?: KubeObject; subresource?: string; dryRun?: boolean; namespaced?: boolean;
}): AdmissionAttributes {
  return {
    group: p.group ?? "", version: "v1", resource: p.resource, subresource: p.subresource ?? "", kind: p.kind,
    namespaced: p.namespaced ?? p.namespace !== undefined, operation: p.operation, namespace: p.namespace ?? "",
    name: p.name ?? p.object?.metadata?.name ?? "", object: p.object, oldObject: p.oldObject, userInfo: undefined,
    dryRun: p.dryRun ?? false,
  };
}

export function pod(name: string, spec: Record<string, unknown> = {}, ns = "default"): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, uid: `uid-${name}` },
    spec: { containers: [{ name: "c", image: "nginx" }], ...spec },
  };
}

/** Awaits `p` and returns the ApiError it failed with (throws when it did not fail). */
export async function failure(p: Promise<void> | void): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}
