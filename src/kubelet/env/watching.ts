/**
 * The API-backed `ObjectSource`: a watch per referenced object, shared by the pods that reference
 * it, as the kubelet's watch-based ConfigMap/Secret managers do. So the agent never lists all
 * Secrets of the cluster: it watches `metadata.name=<name>` in the pod's namespace for exactly the
 * objects its pods name, and Services of the namespaces its pods live in (plus `default`, for the
 * `kubernetes` service). A change to a watched object resyncs the pods referencing it (that is how
 * mounted ConfigMaps and Secrets follow updates).
 *
 * Reference counting: `track(pod)` replaces the pod's set of references, `release(uid)` drops it;
 * a watch stops when no pod needs it any more.
 */
import type { Client } from "../../client/client.ts";
import { createInformer, type Informer } from "../../client/informer.ts";
import type { KubeObject } from "../../api/object.ts";
import type { PodObject } from "../types.ts";
import { notFoundText, podReferences, type Lookup, type ObjectKind, type ObjectSource } from "./objects.ts";

export interface WatchingObjectSourceOptions {
  readonly client: Client;
  /** Objects changed that these pods reference. */
  readonly onChange: (podUids: readonly string[]) => void;
  readonly onError?: (err: unknown, where: string) => void;
  /** How long `track` waits for new watches to sync (default 10 s). */
  readonly syncTimeoutMs?: number;
  /** Watch Services for service environment variables (default true; hollow nodes turn it off). */
  readonly services?: boolean;
}

interface Watch {
  readonly informer: Informer<KubeObject>;
  readonly users: Set<string>;
}

export class WatchingObjectSource implements ObjectSource {
  readonly #o: WatchingObjectSourceOptions;
  readonly #watches = new Map<string, Watch>();
  readonly #byPod = new Map<string, Set<string>>();
  #stopped = false;
  /** Whether Services are watched (changeable before pods are tracked). */
  watchServices: boolean;

  constructor(o: WatchingObjectSourceOptions) {
    this.#o = o;
    this.watchServices = o.services ?? true;
  }

  /** Number of running watches (tests, stats). */
  get watchCount(): number {
    return this.#watches.size;
  }

  /** Registers what the pod references and waits (bounded) until those watches have listed. */
  async track(pod: PodObject): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    const ns = pod.metadata?.namespace ?? "default";
    if (uid === "" || this.#stopped) return;
    const keys = new Set<string>(podReferences(pod).map((r) => `${r.kind}/${ns}/${r.name}`));
    if (this.watchServices) {
      keys.add(`Service/${ns}/`);
      keys.add("Service/default/");
    }
    const old = this.#byPod.get(uid) ?? new Set<string>();
    this.#byPod.set(uid, keys);
    for (const k of keys) if (!old.has(k)) this.#acquire(k, uid);
    for (const k of old) if (!keys.has(k)) this.#releaseKey(k, uid);
    const pending = [...keys].map((k) => this.#watches.get(k)).filter((w): w is Watch => w !== undefined && !w.informer.hasSynced());
    if (pending.length === 0) return;
    await Promise.all(pending.map((w) => w.informer.waitForSync({ timeoutMs: this.#o.syncTimeoutMs ?? 10_000 }).catch((err: unknown) => {
      this.#o.onError?.(err, "object watch sync");
    })));
  }

  /** The pod is gone: its watches are released. */
  release(uid: string): void {
    const keys = this.#byPod.get(uid);
    if (keys === undefined) return;
    this.#byPod.delete(uid);
    for (const k of keys) this.#releaseKey(k, uid);
  }

  get(kind: ObjectKind, namespace: string, name: string): Lookup {
    const w = this.#watches.get(`${kind}/${namespace}/${name}`);
    if (w !== undefined && !w.informer.hasSynced()) return { error: `failed to sync ${kind === "ConfigMap" ? "configmap" : "secret"} cache: timed out waiting for the condition`, notFound: false };
    const obj = w?.informer.store.get(`${namespace}/${name}`);
    return obj !== undefined ? { object: obj } : { error: notFoundText(kind, name), notFound: true };
  }

  services(namespace: string): readonly KubeObject[] {
    return this.#watches.get(`Service/${namespace}/`)?.informer.store.list() ?? [];
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#watches.values()];
    this.#watches.clear();
    this.#byPod.clear();
    await Promise.all(all.map((w) => w.informer.stop()));
  }

  #acquire(key: string, uid: string): void {
    let w = this.#watches.get(key);
    if (w === undefined) {
      const [kind, ns, name] = key.split("/") as [string, string, string];
      const rc = this.#o.client.resourceFor<KubeObject>("v1", kind);
      const informer = createInformer(rc, {
        namespace: ns, ...(name !== "" ? { fieldSelector: `metadata.name=${name}` } : {}),
        onError: (err) => this.#o.onError?.(err, `watch ${key}`),
      });
      w = { informer, users: new Set() };
      const watch = w;
      const notify = (): void => {
        if (informer.hasSynced()) this.#o.onChange([...watch.users]);
      };
      informer.addEventHandler({ onAdd: (_o, initial) => { if (!initial) notify(); }, onUpdate: notify, onDelete: notify });
      this.#watches.set(key, w);
      informer.start();
    }
    w.users.add(uid);
  }

  #releaseKey(key: string, uid: string): void {
    const w = this.#watches.get(key);
    if (w === undefined) return;
    w.users.delete(uid);
    if (w.users.size === 0) {
      this.#watches.delete(key);
      void w.informer.stop().catch(() => undefined);
    }
  }
}
