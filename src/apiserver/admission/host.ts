/**
 * The `AdmissionHost` of a running apiserver: consistent store reads of any served resource and
 * status writes through the REST update path (guarded, retried on conflict).
 *
 * Cluster-scoped objects read by admission (the namespace of every request, every PriorityClass
 * on every pod create) are decoded once per stored revision and shared, deep-frozen, between
 * requests: the store read stays (reads are consistent), the decode does not repeat.
 */
import { notFound } from "../../api/errors.ts";
import { findResource, type ServerCore } from "../context.ts";
import { keyOf, updateObject } from "../rest.ts";
import type { KeyValue } from "../../store/types.ts";
import { prefixEnd } from "../storereader.ts";
import type { AdmissionHost, HostObject } from "./types.ts";

/** Decoded cluster-scoped objects kept at most (cleared when full). */
const MEMO_MAX = 1024;

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export function createAdmissionHost(core: ServerCore): AdmissionHost {
  const memo = new Map<string, HostObject>();
  /** The object of `kv`, decoded once per revision when it is cluster-scoped. */
  const decode = (kv: KeyValue, clusterScoped: boolean): HostObject => {
    if (clusterScoped) {
      const hit = memo.get(kv.key);
      if (hit !== undefined && hit.modRevision === kv.modRevision) return hit;
    }
    const s = core.codec.fromKv(kv);
    const h: HostObject = { object: s.object, modRevision: s.modRevision };
    if (clusterScoped) {
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(kv.key, { object: deepFreeze(s.object), modRevision: s.modRevision });
    }
    return h;
  };
  const resource = (group: string, plural: string) => {
    const res = findResource(core, group, plural);
    if (!res) throw notFound(group, plural, "");
    return res;
  };
  return {
    now: () => core.now(),
    has: (group, plural) => findResource(core, group, plural) !== undefined,
    async get(group, plural, namespace, name): Promise<HostObject | undefined> {
      const res = findResource(core, group, plural);
      if (!res) return undefined;
      const r = await core.store.range({ key: keyOf(res, namespace, name) });
      const kv = r.kvs[0];
      return kv ? decode(kv, !res.info.namespaced) : undefined;
    },
    async list(group, plural, namespace): Promise<HostObject[]> {
      const res = findResource(core, group, plural);
      if (!res) return [];
      const base = res.info.namespaced && namespace !== "" ? `${res.prefix}${namespace}/` : res.prefix;
      const r = await core.store.range({ key: base, end: prefixEnd(base) });
      return r.kvs.map((kv) => decode(kv, !res.info.namespaced));
    },
    async updateStatus(group, plural, namespace, name, mutate): Promise<void> {
      const res = resource(group, plural);
      // Guarded by the read's revision: updateObject re-reads and calls `mutate` again on a lost
      // race. An unchanged object writes nothing.
      await updateObject(core, res, namespace, name, (cur) => {
        const next = mutate(cur) ?? cur;
        if (next.metadata) delete next.metadata.resourceVersion;
        return next;
      }, { mode: "status", dryRun: false });
    },
  };
}
