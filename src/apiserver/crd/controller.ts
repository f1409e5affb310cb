/**
 * The CRD controller inside the apiserver: watches CustomResourceDefinitions and
 *
 * - serves their resources (registry add/remove, which starts/stops a watch cache per resource),
 * - sets status: `acceptedNames`, `NamesAccepted` (names not taken by another kind in the group)
 *   and `Established`,
 * - on deletion (the `customresourcecleanup.apiextensions.k8s.io` finalizer, added at create),
 *   stops serving, sets `Terminating`, deletes every stored object of the resource, then removes the
 *   finalizer so the CRD goes away.
 *
 * Events are handled one at a time, in order. A watch that ends (410, store trouble) re-lists.
 */
import type { CustomResourceDefinition, CustomResourceDefinitionCondition } from "../../api/generated/apiextensions_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { isApiError } from "../../api/errors.ts";
import { rfc3339 } from "../meta.ts";
import { findResource, type Resource, type ServerCore } from "../context.ts";
import { updateObject } from "../rest.ts";
import type { ResourceRegistry } from "./registry.ts";
import { crStoragePrefix, customResourcesOf } from "./resource.ts";

import { CLEANUP_FINALIZER } from "../../apiextensions/crd_strategy.ts";
const EVERYTHING = { everything: true, matches: () => true } as const;
const MAX_RESTART_DELAY_MS = 5000;

export interface CrdController {
  /** Resolves after the initial list was handled (existing CRDs served). */
  readonly synced: Promise<void>;
  stop(): void;
}

interface Served {
  readonly fingerprint: string;
  readonly keys: readonly string[];
}

function crdOf(o: KubeObject): CustomResourceDefinition {
  return o as CustomResourceDefinition; // stored CRDs passed validation
}

function condition(type: string, status: string, reason: string, message: string, now: string, prev?: CustomResourceDefinitionCondition): CustomResourceDefinitionCondition {
  const same = prev && prev.status === status;
  return { type, status, lastTransitionTime: same && prev.lastTransitionTime ? prev.lastTransitionTime : now, reason, message };
}

export function startCrdController(core: ServerCore, registry: ResourceRegistry, log: (msg: string, err: unknown) => void): CrdController {
  const crdRes = findResource(core, "apiextensions.k8s.io", "customresourcedefinitions");
  const served = new Map<string, Served>();
  let stopped = false;
  let current: { stop(): void } | undefined;
  let chain: Promise<void> = Promise.resolve();
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((r) => (markSynced = r));
  if (!crdRes) {
    markSynced();
    return { synced, stop() {} };
  }

  const enqueue = (fn: () => Promise<void>): Promise<void> => {
    chain = chain.then(fn).catch((e: unknown) => {
      // A CRD deleted while an older event was queued: the DELETED event follows.
      if (isApiError(e) && e.code === 404) return;
      log("crd controller: sync failed", e);
    });
    return chain;
  };

  /** Names other kinds of the group already use (built-ins and other CRDs). */
  const namesConflict = (crd: CustomResourceDefinition): string | undefined => {
    const group = crd.spec?.group ?? "";
    const names = crd.spec?.names ?? {};
    const mine = crd.metadata?.name ?? "";
    for (const r of core.resources.values()) {
      if (r.info.group !== group) continue;
      const owner = [...served.entries()].find(([, s]) => s.keys.includes(`${r.info.group}/${r.info.version}/${r.info.plural}`))?.[0];
      if (owner === mine) continue;
      if (r.info.plural === names.plural) return `"${names.plural}" is already in use`;
      if (names.kind && r.info.kind === names.kind) return `"${names.kind}" is already in use`;
      if (names.singular && r.info.singular === names.singular) return `"${names.singular}" is already in use`;
      for (const s of names.shortNames ?? []) if (r.info.shortNames.includes(s)) return `"${s}" is already in use`;
    }
    return undefined;
  };

  const unserve = (name: string): void => {
    const s = served.get(name);
    if (!s) return;
    for (const k of s.keys) registry.remove(k);
    served.delete(name);
  };

  const serve = async (crd: CustomResourceDefinition): Promise<void> => {
    const name = crd.metadata?.name ?? "";
    const fingerprint = JSON.stringify(crd.spec ?? {});
    const prev = served.get(name);
    if (prev && prev.fingerprint === fingerprint) return;
    const builds = customResourcesOf(crd);
    const keys = builds.map((b) => `${b.res.info.group}/${b.res.info.version}/${b.res.info.plural}`);
    for (const b of builds) await registry.add(b.res, b.extras);
    for (const k of prev?.keys ?? []) if (!keys.includes(k)) registry.remove(k);
    served.set(name, { fingerprint, keys });
  };

  const writeStatus = async (name: string, f: (crd: CustomResourceDefinition) => boolean): Promise<void> => {
    await updateObject(core, crdRes, "", name, (cur) => {
      const c = crdOf(cur);
      f(c);
      return cur;
    }, { mode: "status", dryRun: false });
  };

  const syncStatus = async (crd: CustomResourceDefinition): Promise<void> => {
    const name = crd.metadata?.name ?? "";
    const conflict = namesConflict(crd);
    const now = rfc3339(core.now());
    const conds = crd.status?.conditions ?? [];
    const prevOf = (t: string) => conds.find((c) => c.type === t);
    const namesOk = conflict === undefined;
    const want: CustomResourceDefinitionCondition[] = [
      namesOk
        ? condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", now, prevOf("NamesAccepted"))
        : condition("NamesAccepted", "False", "NameConflict", conflict, now, prevOf("NamesAccepted")),
      namesOk
        ? condition("Established", "True", "InitialNamesAccepted", "the initial names have been accepted", now, prevOf("Established"))
        : condition("Established", "False", "NotAccepted", "not all names are accepted", now, prevOf("Established")),
    ];
    const accepted = namesOk ? { ...(crd.spec?.names ?? {}) } : crd.status?.acceptedNames ?? { plural: "", kind: "" };
    const same = JSON.stringify(conds.map((c) => [c.type, c.status, c.reason])) === JSON.stringify(want.map((c) => [c.type, c.status, c.reason]))
      && JSON.stringify(crd.status?.acceptedNames ?? {}) === JSON.stringify(accepted);
    if (!same) {
      await writeStatus(name, (c) => {
        const st = (c.status ??= {});
        st.conditions = want;
        st.acceptedNames = accepted;
        return true;
      });
    }
    if (namesOk) await serve(crd);
    else unserve(name);
  };

  const cleanup = async (crd: CustomResourceDefinition): Promise<void> => {
    const name = crd.metadata?.name ?? "";
    unserve(name);
    if (!(crd.metadata?.finalizers ?? []).includes(CLEANUP_FINALIZER)) return;
    const now = rfc3339(core.now());
    const term = (crd.status?.conditions ?? []).find((c) => c.type === "Terminating");
    if (term?.status !== "True") {
      await writeStatus(name, (c) => {
        const st = (c.status ??= {});
        const conds = (st.conditions ?? []).filter((x) => x.type !== "Terminating" && x.type !== "Established");
        conds.push(condition("Established", "False", "Terminating", "the object is being deleted", now));
        conds.push(condition("Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress", now));
        st.conditions = conds;
        return true;
      });
    }
    await core.store.txn({ compare: [], success: [{ type: "delete", key: crStoragePrefix(crd.spec?.group ?? "", crd.spec?.names?.plural ?? ""), prefix: true }] });
    await updateObject(core, crdRes, "", name, (cur) => {
      const m = cur.metadata ?? {};
      m.finalizers = (m.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
      if (m.finalizers.length === 0) delete m.finalizers;
      cur.metadata = m;
      return cur;
    }, { mode: "internal", dryRun: false });
  };

  const handle = async (type: string, obj: KubeObject): Promise<void> => {
    if (stopped) return;
    const crd = crdOf(obj);
    const name = crd.metadata?.name ?? "";
    if (type === "DELETED") {
      unserve(name);
      return;
    }
    if (crd.metadata?.deletionTimestamp) await cleanup(crd);
    else await syncStatus(crd);
  };

  const run = async (attempt: number): Promise<void> => {
    if (stopped) return;
    const reader = core.readerFor(crdRes as Resource);
    try {
      const list = await reader.list({ filter: EVERYTHING });
      const names = new Set<string>();
      for (const item of list.items) {
        names.add(item.name);
        await enqueue(() => handle("ADDED", item.object));
      }
      for (const n of [...served.keys()]) if (!names.has(n)) await enqueue(async () => unserve(n));
      markSynced();
      const w = reader.watch({ filter: EVERYTHING, resourceVersion: String(list.revision) });
      current = w;
      for await (const ev of w) {
        if (stopped) break;
        if (ev.type === "BOOKMARK") continue;
        void enqueue(() => handle(ev.type, ev.object.object));
      }
      attempt = 0;
    } catch (e) {
      if (!stopped) log("crd controller: watch failed", e);
    }
    if (stopped) return;
    const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** Math.min(attempt, 6));
    setTimeout(() => void run(attempt + 1), delay).unref?.();
  };
  void run(0);

  return {
    synced,
    stop() {
      stopped = true;
      current?.stop();
      markSynced();
    },
  };
}
