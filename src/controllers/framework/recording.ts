/**
 * `RecordingWriter`: the in-memory `ObjectWriter` for tests. It records every call (what tests
 * assert on), keeps the objects it was given or seeded with so later calls and live `get`s see
 * them, assigns names from `generateName`, uids and resourceVersions as the apiserver would, and
 * applies merge patches. `reactors` inject failures: the first reactor returning an error fails
 * the call (it is still recorded, with `error` set).
 */
import { ApiError, alreadyExists, conflict, notFound } from "../../api/errors.ts";
import type { KubeObject } from "../../api/object.ts";
import { kindInfo, type ResourceId } from "./resources.ts";
import type { DeleteOptions, ObjectWriter, PatchType } from "./writer.ts";

export type Verb = "create" | "update" | "updateStatus" | "updateSubresource" | "patch" | "delete" | "deleteCollection" | "list" | "get";

export interface RecordedCall {
  readonly verb: Verb;
  /** The plural, e.g. "pods". */
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly object?: KubeObject;
  readonly patch?: unknown;
  readonly patchType?: PatchType;
  readonly subresource?: string;
  readonly options?: DeleteOptions;
  readonly error?: string;
}

export type Reactor = (call: RecordedCall) => Error | undefined;

/** RFC 7386 JSON merge patch (pure). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class RecordingWriter implements ObjectWriter {
  readonly calls: RecordedCall[] = [];
  readonly reactors: Reactor[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private rv = 1000;
  private seq = 0;

  /** Makes `objs` visible to `get`/`update`/`patch` without recording anything. */
  seed(r: ResourceId, ...objs: KubeObject[]): this {
    for (const o of objs) this.objects.set(this.key(r, o.metadata?.namespace ?? "", o.metadata?.name ?? ""), structuredClone(o));
    return this;
  }

  /** The writes only (no `get`s), as short strings: `create pods ns/web-abcde`. */
  summary(): string[] {
    return this.calls.filter((c) => c.verb !== "get" && c.verb !== "list").map((c) =>
      `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ""} ${c.namespace ? `${c.namespace}/` : ""}${c.name}${c.error ? ` (failed: ${c.error})` : ""}`);
  }

  /** Writes of one verb and resource. */
  writes(verb: Verb, resource: string): RecordedCall[] {
    return this.calls.filter((c) => c.verb === verb && c.resource === resource && c.error === undefined);
  }

  stored<T extends KubeObject>(r: ResourceId, namespace: string, name: string): T | undefined {
    return this.objects.get(this.key(r, namespace, name)) as T | undefined; // stored under its own kind
  }

  /** Every stored object of a resource. */
  all(r: ResourceId): KubeObject[] {
    const prefix = `${kindInfo(r).plural}|`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o));
  }

  reset(): void {
    this.calls.length = 0;
  }

  private key(r: ResourceId, ns: string, name: string): string {
    return `${kindInfo(r).plural}|${ns}|${name}`;
  }

  private record(call: RecordedCall): void {
    for (const react of this.reactors) {
      const err = react(call);
      if (err) {
        this.calls.push({ ...call, error: err.message });
        throw err;
      }
    }
    this.calls.push(call);
  }

  private nextRv(): string {
    return String(++this.rv);
  }

  async create<T extends KubeObject>(r: ResourceId, obj: T): Promise<T> {
    const info = kindInfo(r);
    const o = structuredClone(obj);
    const md = (o.metadata ??= {});
    if (!md.name && md.generateName) md.name = `${md.generateName}${randomSuffix(++this.seq)}`;
    const ns = info.namespaced ? md.namespace ?? "" : "";
    const name = md.name ?? "";
    this.record({ verb: "create", resource: info.plural, namespace: ns, name, object: structuredClone(o) });
    const key = this.key(r, ns, name);
    if (this.objects.has(key)) throw alreadyExists(info.group, info.plural, name);
    md.uid ??= `uid-${info.plural}-${name}`;
    md.resourceVersion = this.nextRv();
    md.creationTimestamp ??= "2024-01-01T00:00:00Z";
    this.objects.set(key, o);
    return structuredClone(o);
  }

  private async put<T extends KubeObject>(verb: "update" | "updateStatus", r: ResourceId, obj: T): Promise<T> {
    const info = kindInfo(r);
    const ns = info.namespaced ? obj.metadata?.namespace ?? "" : "";
    const name = obj.metadata?.name ?? "";
    this.record({ verb, resource: info.plural, namespace: ns, name, object: structuredClone(obj) });
    const key = this.key(r, ns, name);
    const cur = this.objects.get(key);
    if (!cur) throw notFound(info.group, info.plural, name);
    const want = obj.metadata?.resourceVersion;
    if (want && cur.metadata?.resourceVersion && want !== cur.metadata.resourceVersion) {
      throw conflict(info.group, info.plural, name, "the object has been modified; please apply your changes to the latest version and try again");
    }
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, resourceVersion: this.nextRv() };
    this.objects.set(key, o);
    return structuredClone(o);
  }

  update<T extends KubeObject>(r: ResourceId, obj: T): Promise<T> {
    return this.put("update", r, obj);
  }

  updateStatus<T extends KubeObject>(r: ResourceId, obj: T): Promise<T> {
    return this.put("updateStatus", r, obj);
  }

  async patch<T extends KubeObject>(r: ResourceId, ns: string, name: string, patch: unknown, type: PatchType, subresource?: string): Promise<T> {
    const info = kindInfo(r);
    this.record({ verb: "patch", resource: info.plural, namespace: ns, name, patch: structuredClone(patch), patchType: type, ...(subresource !== undefined ? { subresource } : {}) });
    const key = this.key(r, ns, name);
    const cur = this.objects.get(key);
    if (!cur) throw notFound(info.group, info.plural, name);
    if (type === "json") throw new ApiError(415, "UnsupportedMediaType", "RecordingWriter applies merge patches only");
    const want = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion; // a patch may carry a precondition
    if (want && want !== cur.metadata?.resourceVersion) {
      throw conflict(info.group, info.plural, name, "the object has been modified; please apply your changes to the latest version and try again");
    }
    const o = mergePatch(cur, patch) as T; // merging into an object of kind T yields T
    o.metadata = { ...o.metadata, resourceVersion: this.nextRv() };
    this.objects.set(key, o);
    return structuredClone(o);
  }

  async delete(r: ResourceId, ns: string, name: string, opts?: DeleteOptions): Promise<void> {
    const info = kindInfo(r);
    this.record({ verb: "delete", resource: info.plural, namespace: ns, name, ...(opts !== undefined ? { options: opts } : {}) });
    this.objects.delete(this.key(r, ns, name));
  }

  async updateSubresource<T extends KubeObject>(r: ResourceId, obj: T, subresource: string): Promise<T> {
    const info = kindInfo(r);
    const ns = info.namespaced ? obj.metadata?.namespace ?? "" : "";
    const name = obj.metadata?.name ?? "";
    this.record({ verb: "updateSubresource", resource: info.plural, namespace: ns, name, subresource, object: structuredClone(obj) });
    const key = this.key(r, ns, name);
    if (!this.objects.has(key)) throw notFound(info.group, info.plural, name);
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, resourceVersion: this.nextRv() };
    this.objects.set(key, o);
    return structuredClone(o);
  }

  async deleteCollection(r: ResourceId, ns: string, opts?: DeleteOptions): Promise<void> {
    const info = kindInfo(r);
    this.record({ verb: "deleteCollection", resource: info.plural, namespace: ns, name: "", ...(opts !== undefined ? { options: opts } : {}) });
    const prefix = `${info.plural}|${ns}|`;
    for (const k of [...this.objects.keys()]) {
      if (!k.startsWith(prefix)) continue;
      const o = this.objects.get(k);
      // Objects with finalizers stay (marked), as on a real apiserver.
      if (o && (o.metadata?.finalizers ?? []).length > 0) o.metadata = { ...o.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" };
      else this.objects.delete(k);
    }
  }

  async list<T extends KubeObject>(r: ResourceId, ns: string): Promise<T[]> {
    const info = kindInfo(r);
    this.record({ verb: "list", resource: info.plural, namespace: ns, name: "" });
    const prefix = ns === "" ? `${info.plural}|` : `${info.plural}|${ns}|`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o) as T); // stored under its own kind
  }

  async get<T extends KubeObject>(r: ResourceId, ns: string, name: string): Promise<T | undefined> {
    const info = kindInfo(r);
    this.record({ verb: "get", resource: info.plural, namespace: ns, name });
    const o = this.objects.get(this.key(r, ns, name));
    return o ? (structuredClone(o) as T) : undefined; // stored under its own kind
  }
}

/** Deterministic 5-character suffixes in the apiserver's alphabet. */
function randomSuffix(n: number): string {
  const abc = "bcdfghjklmnpqrstvwxz2456789";
  let s = "";
  let x = n * 7919 + 12345;
  for (let i = 0; i < 5; i++) {
    s += abc[x % abc.length];
    x = Math.floor(x / abc.length) + 31 * (i + 1);
  }
  return s;
}
