/**
 * The informer's local store: objects by key (`namespace/name`, or `name` when cluster-scoped),
 * a built-in namespace index and optional named indexes. Pure in-memory structure; the informer
 * is its only writer, everybody else reads.
 */
import type { KubeObject } from "../api/object.ts";

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function keyOf(obj: KubeObject): string {
  const name = obj.metadata?.name ?? "";
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key back into namespace ("" when cluster-scoped) and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Computes the index values of an object (e.g. its node name). */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** Read access to an informer's cache (what listers use). */
export interface Lister<T extends KubeObject = KubeObject> {
  get(key: string): T | undefined;
  /** Every object, in no particular order. */
  list(): T[];
  /** Objects in one namespace. */
  listNamespace(ns: string): T[];
  /** Objects whose index `name` has value `value`. Throws `Error` for an unknown index. */
  byIndex(name: string, value: string): T[];
  keys(): string[];
  readonly size: number;
}

export class Indexer<T extends KubeObject = KubeObject> implements Lister<T> {
  private readonly items = new Map<string, T>();
  private readonly indexFns = new Map<string, IndexFunc<T>>();
  /** index name -> value -> keys */
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  /** The same indexes as a list, for the per-object paths (no Map iteration per upsert). */
  private readonly indexList: Array<{ readonly fn: IndexFunc<T>; readonly idx: Map<string, Set<string>> }> = [];

  constructor(indexers: Readonly<Record<string, IndexFunc<T>>> = {}) {
    this.addIndexer("namespace", (o) => [o.metadata?.namespace ?? ""]);
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  /** Adds an index (existing objects are indexed at once). Throws `Error` if the name is taken. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexFns.has(name)) throw new Error(`index "${name}" already exists`);
    this.indexFns.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indexes.set(name, idx);
    this.indexList.push({ fn, idx });
    for (const [k, o] of this.items) for (const v of fn(o)) addTo(idx, v, k);
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  listNamespace(ns: string): T[] {
    return this.byIndex("namespace", ns);
  }

  byIndex(name: string, value: string): T[] {
    const idx = this.indexes.get(name);
    if (!idx) throw new Error(`no index named "${name}"`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /**
   * Inserts or replaces; returns the previous object. An index whose values did not change (an
   * update of the same object: same namespace, same node) is left as it is.
   */
  upsert(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    const list = this.indexList;
    for (let i = 0; i < list.length; i++) {
      const { fn, idx } = list[i]!;
      const vals = fn(obj);
      if (old !== undefined) {
        const was = fn(old);
        if (sameValues(was, vals)) continue;
        for (const v of was) removeFrom(idx, v, key);
      }
      for (const v of vals) addTo(idx, v, key);
    }
    return old;
  }

  /** Removes by key; returns the removed object. */
  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    const list = this.indexList;
    for (let i = 0; i < list.length; i++) {
      const { fn, idx } = list[i]!;
      for (const v of fn(obj)) removeFrom(idx, v, key);
    }
  }
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function removeFrom(idx: Map<string, Set<string>>, v: string, key: string): void {
  const s = idx.get(v);
  if (!s) return;
  s.delete(key);
  if (s.size === 0) idx.delete(v);
}

function addTo(idx: Map<string, Set<string>>, v: string, key: string): void {
  let s = idx.get(v);
  if (!s) idx.set(v, (s = new Set()));
  s.add(key);
}
