/**
 * The `AdmissionHost` of a running apiserver: consistent store reads of any served resource and
 * status writes through the REST update path (guarded, retried on conflict).
 */
import { notFound } from "../../api/errors.ts";
import { findResource, type ServerCore } from "../context.ts";
import { keyOf, updateObject } from "../rest.ts";
import { readObject } from "../storage.ts";
import { prefixEnd } from "../storereader.ts";
import type { AdmissionHost, HostObject } from "./types.ts";

export function createAdmissionHost(core: ServerCore): AdmissionHost {
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
      const cur = await readObject(core.store, core.codec, keyOf(res, namespace, name));
      return cur ? { object: cur.object, modRevision: cur.modRevision } : undefined;
    },
    async list(group, plural, namespace): Promise<HostObject[]> {
      const res = findResource(core, group, plural);
      if (!res) return [];
      const base = res.info.namespaced && namespace !== "" ? `${res.prefix}${namespace}/` : res.prefix;
      const r = await core.store.range({ key: base, end: prefixEnd(base) });
      return r.kvs.map((kv) => {
        const s = core.codec.fromKv(kv);
        return { object: s.object, modRevision: s.modRevision };
      });
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
