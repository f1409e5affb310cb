/**
 * The generic REST store: create, update (guaranteed update with conflict retries) and delete
 * (preconditions, finalizers, graceful deletion) of one resource's objects over the Store.
 * HTTP-free: the verb handlers decode requests and call these.
 */
import { ApiError, alreadyExists, conflict, invalid, notFound } from "../api/errors.ts";
import type { KubeObject, ObjectMetaLike } from "../api/object.ts";
import type { Compare, TxnOp } from "../store/types.ts";
import type { FieldError } from "./registry/strategy.ts";
import { cloneObject, findResource, type Resource, type ServerCore } from "./context.ts";
import { generateName, newUid, rfc3339, validateObjectMetaName } from "./meta.ts";
import { objectKey, readObject, type StoredObject } from "./storage.ts";
import { resetFieldsFor, schemaForKind, updateManagedFields } from "./fieldmanager/mod.ts";
import { admissionOf, attributesFor } from "./admission/chain.ts";
import { writtenFacts } from "./watchcache/handoff.ts";

/** Attempts of an optimistic read-modify-write before giving up with 409. */
export const MAX_UPDATE_ATTEMPTS = 16;
const MAX_GENERATE_ATTEMPTS = 8;

export const MODIFIED = "the object has been modified; please apply your changes to the latest version and try again";

/**
 * Finalizers that keep a deleted object in place: `metadata.finalizers`, plus — for namespaces —
 * `spec.finalizers` (the `kubernetes` finalizer the namespace controller removes through
 * `namespaces/<name>/finalize` once the namespace's content is gone).
 */
export function pendingFinalizers(res: Resource, obj: KubeObject): number {
  return (obj.metadata?.finalizers ?? []).length + namespaceSpecFinalizers(res, obj);
}

function namespaceSpecFinalizers(res: Resource, obj: KubeObject): number {
  if (!isNamespaceResource(res)) return 0;
  const spec = obj["spec"] as { finalizers?: unknown } | undefined;
  return Array.isArray(spec?.finalizers) ? spec.finalizers.length : 0;
}

export function isNamespaceResource(res: Resource): boolean {
  return res.info.group === "" && res.info.plural === "namespaces";
}

export function keyOf(res: Resource, namespace: string, name: string): string {
  return objectKey(res.prefix, res.info.namespaced ? namespace : "", name);
}

export function toCauses(errs: readonly FieldError[]): { reason: FieldError["type"]; message: string; field: string }[] {
  return errs.map((e) => ({ reason: e.type, message: e.message, field: e.field }));
}

export function throwInvalid(res: Resource, name: string, errs: readonly FieldError[]): never {
  // Deduplicate (generic and kind-specific validation may report the same problem).
  const seen = new Set<string>();
  const uniq = errs.filter((e) => {
    const k = `${e.field}\0${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  throw invalid(res.info.group, res.info.kind, name, toCauses(uniq));
}

/**
 * Checks that a namespace exists and is not terminating (for namespaced creates). Used only when
 * no admission chain is attached; otherwise the NamespaceLifecycle plugin does this.
 */
export async function checkNamespace(core: ServerCore, namespace: string): Promise<void> {
  const nsRes = findResource(core, "", "namespaces");
  if (!nsRes) return;
  const ns = await readObject(core.store, core.codec, keyOf(nsRes, "", namespace));
  if (!ns) throw notFound("", "namespaces", namespace);
  const phase = (ns.object["status"] as { phase?: string } | undefined)?.phase;
  if (phase === "Terminating" || ns.object.metadata?.deletionTimestamp) {
    throw new ApiError(403, "Forbidden",
      `unable to create new content in namespace ${namespace} because it is being terminated`,
      { name: namespace, kind: "namespaces", causes: [{ reason: "NamespaceTerminating" as never, message: `namespace ${namespace} is being terminated`, field: "metadata.namespace" }] });
  }
}

/**
 * managedFields tracking of a non-apply write (create, update, patch, subresource writes):
 * `manager` is the fieldManager (else the user agent's prefix), recorded as an Update.
 */
export interface FieldTracking {
  readonly manager: string;
  /** "status", "scale" for subresource writes. */
  readonly subresource?: string;
}

/**
 * Sets `obj.metadata.managedFields` for a non-apply write of `obj` over `live` (undefined on
 * create), omitting the field when no entries remain. Kinds without a schema are left alone.
 */
export function trackManagedFields(core: ServerCore, res: Resource, live: KubeObject | undefined, obj: KubeObject, t: FieldTracking): void {
  const schema = res.typeSchema ?? schemaForKind(res.apiVersion, res.info.kind);
  if (!schema) return;
  const sub = t.subresource;
  const ignore = resetFieldsFor(sub ? { subresource: sub, hasStatusSubresource: res.info.subresources.includes("status") }
    : { hasStatusSubresource: res.info.subresources.includes("status") });
  const entries = updateManagedFields(schema, live, obj, {
    manager: t.manager, apiVersion: res.apiVersion, time: core.now(), ignore, ...(sub ? { subresource: sub } : {}),
  });
  const m: ObjectMetaLike = { ...(obj.metadata ?? {}) };
  if (entries.length > 0) m.managedFields = entries;
  else delete m.managedFields;
  obj.metadata = m;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Encodes `obj` for storage under `key` and offers the watch cache what it would otherwise decode
 * the value to learn (identity, labels, field-selector attributes; see watchcache/handoff.ts).
 * Custom resources (converted on read) are not offered. Call `withdrawStored` when the write fails.
 */
function encodeForStore(core: ServerCore, res: Resource, key: string, obj: KubeObject): Uint8Array {
  const value = core.codec.encodeStorage(obj);
  if (res.custom || res.convert) return value;
  const m = obj.metadata ?? {};
  writtenFacts.offer(key, value, {
    namespace: m.namespace ?? "", name: m.name ?? "",
    labels: m.labels ? { ...m.labels } : NO_LABELS,
    fields: res.strategy.fields(obj),
  });
  return value;
}

function withdrawStored(key: string, value: Uint8Array): void {
  writtenFacts.withdraw(key, value);
}

export interface WriteResult {
  readonly object: KubeObject;
  /** True when the object no longer exists (delete finished). */
  readonly deleted?: boolean;
}

/** Kind-specific extra claims (service IPs/ports) for a write. */
async function claimsFor(core: ServerCore, res: Resource, obj: KubeObject | undefined, old: KubeObject | undefined, key: string): Promise<{ compare: Compare[]; ops: TxnOp[] }> {
  if (res.info.group === "" && res.info.plural === "services") {
    if (!obj) return { compare: [], ops: old ? core.services.release(old) : [] };
    const c = await core.services.allocate(obj, old, key);
    if (c.errors.length) throwInvalid(res, obj.metadata?.name ?? "", c.errors);
    return { compare: c.compare, ops: c.ops };
  }
  return { compare: [], ops: [] };
}

/**
 * Creates `obj` (already decoded and kind-checked; namespace set for namespaced kinds).
 * Fills uid, creationTimestamp, generateName; runs defaulting, prepareForCreate, managedFields
 * tracking (when `track` is given; server-side apply passes its own managedFields instead) and
 * validation.
 */
export async function createObject(
  core: ServerCore, res: Resource, input: KubeObject, dryRun: boolean, track?: FieldTracking, opts: CreateOptions = {},
): Promise<KubeObject> {
  const meta: ObjectMetaLike = { ...(input.metadata ?? {}) };
  const namespace = res.info.namespaced ? meta.namespace ?? "" : "";
  const admission = admissionOf(core);
  if (res.info.namespaced && !admission) await checkNamespace(core, namespace);
  const generate = !meta.name && !!meta.generateName;
  // Only generateName collisions and lost service-allocation races try again, from the input as
  // given: an owned input that cannot be retried is used as it is, without a copy.
  const mayRetry = generate || (res.info.group === "" && res.info.plural === "services");
  for (let attempt = 0; attempt < MAX_GENERATE_ATTEMPTS; attempt++) {
    const obj = opts.owned === true && !mayRetry ? input : cloneObject(input);
    const m: ObjectMetaLike = { ...meta };
    if (generate) m.name = generateName(meta.generateName as string);
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    m.uid = newUid();
    m.creationTimestamp = rfc3339(core.now());
    if (res.info.namespaced) m.namespace = namespace;
    else delete m.namespace;
    obj.metadata = m;
    obj.apiVersion = res.apiVersion;
    obj.kind = res.info.kind;
    // Upstream order: defaulting (at decode), then PrepareForCreate, then validation.
    res.strategy.applyDefaults(obj);
    res.strategy.prepareForCreate(obj);
    if (track) trackManagedFields(core, res, undefined, obj, track);
    // Upstream order: mutating admission -> validation -> validating admission -> storage.
    const attrs = admission && attributesFor(res, { operation: "CREATE", namespace, name: meta.name ?? "", object: obj, dryRun });
    if (admission && attrs) await admission.admit(attrs);
    const errs = [...validateObjectMetaName(m.name), ...res.strategy.validateCreate(obj)];
    if (errs.length) throwInvalid(res, m.name ?? meta.generateName ?? "", errs);
    if (admission && attrs) await admission.validate(attrs);
    const name = obj.metadata?.name ?? "";
    const key = keyOf(res, namespace, name);
    if ((dryRun || res.info.plural === "services") && !generate && (await readObject(core.store, core.codec, key))) {
      // Before allocating: an existing object is AlreadyExists, not an allocation conflict.
      throw alreadyExists(res.info.group, res.info.plural, name);
    }
    const claims = await claimsFor(core, res, obj, undefined, key);
    if (dryRun) return obj;
    const value = encodeForStore(core, res, key, obj);
    const r = await core.store.txn({
      compare: [{ key, target: "createRevision", op: "=", value: 0 }, ...claims.compare],
      success: [{ type: "put", key, value }, ...claims.ops],
    });
    if (r.succeeded) {
      obj.metadata = { ...obj.metadata, resourceVersion: String(r.revision) };
      core.codec.rememberStored(obj, value, opts.typed === true && !res.convert ? key : undefined);
      return obj;
    }
    withdrawStored(key, value);
    const existing = await readObject(core.store, core.codec, key);
    if (existing && !generate) throw alreadyExists(res.info.group, res.info.plural, name);
    // generateName collision or a lost allocation race: try again with fresh picks.
  }
  throw alreadyExists(res.info.group, res.info.plural, meta.name ?? meta.generateName ?? "");
}

export interface CreateOptions {
  /**
   * The caller hands `input` over (freshly decoded for this request, not used afterwards): it may
   * be changed and become the result instead of being copied first.
   */
  readonly owned?: boolean;
  /**
   * The object written is in typed form — what decoding its stored value gives back: the handlers
   * pass bodies through `typedForm` (or decoded them from protobuf), and the strategy's and
   * admission's changes keep that form. The next read of it may then share the written object
   * instead of decoding (`ObjectCodec.sharedFromKv`; `TUG_VERIFY_HANDOFF=1` checks).
   */
  readonly typed?: boolean;
}

/** `internal`: a server-side change (binding) that bypasses the strategy's prepare/validate and admission. */
export type UpdateMode = "main" | "status" | "internal";

export interface UpdateOptions {
  readonly mode: UpdateMode;
  readonly dryRun: boolean;
  /** Record the write in managedFields (after defaulting and prepareForUpdate). */
  readonly track?: FieldTracking;
  /**
   * `mutate` promises not to change the object it is given (nor anything reachable from it) and
   * to return a new object, sharing whatever it leaves unchanged (copy-on-write). The current
   * object is then passed without the deep copy otherwise made for it. Honoured in "internal"
   * mode only (the other modes default and prepare the result in place).
   */
  readonly copyOnWrite?: boolean;
  /** As `CreateOptions.typed`. */
  readonly typed?: boolean;
}

/**
 * Reads the current object, asks `mutate` for the new one, and writes it guarded by the read's
 * modRevision, retrying on a race. A resourceVersion in the new object that differs from the
 * current one is a 409 Conflict (never retried). An update emptying the finalizers of an object
 * being deleted (with no grace period left) deletes it.
 */
export async function updateObject(
  core: ServerCore, res: Resource, namespace: string, name: string,
  mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>, opts: UpdateOptions,
): Promise<WriteResult> {
  const key = keyOf(res, namespace, name);
  for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
    // Shared: `old` is never changed here (mutate gets a copy unless it promised copy-on-write).
    const cur = await readObject(core.store, core.codec, key, true);
    if (!cur) throw notFound(res.info.group, res.info.plural, name);
    const old = res.convert ? res.convert(cur.object) : cur.object;
    const cow = opts.copyOnWrite === true && opts.mode === "internal";
    const obj = await mutate(cow ? old : cloneObject(old));
    if (obj === old) throw new Error("updateObject: a copy-on-write mutate returned its input");
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== old.metadata?.resourceVersion) {
      throw conflict(res.info.group, res.info.plural, name, MODIFIED);
    }
    const uid = obj.metadata?.uid;
    if (uid && uid !== old.metadata?.uid) {
      throw conflict(res.info.group, res.info.plural, name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata?.uid ?? ""}`);
    }
    const om = old.metadata ?? {};
    const m: ObjectMetaLike = { ...(obj.metadata ?? {}) };
    m.name = om.name ?? name;
    if (res.info.namespaced) m.namespace = om.namespace ?? namespace;
    else delete m.namespace;
    for (const f of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const) {
      const v = om[f];
      if (v === undefined) delete m[f];
      else (m as Record<string, unknown>)[f] = v;
    }
    delete m.selfLink;
    m.resourceVersion = om.resourceVersion ?? "";
    obj.metadata = m;
    obj.apiVersion = res.apiVersion;
    obj.kind = res.info.kind;
    if (opts.mode !== "internal") {
      res.strategy.applyDefaults(obj);
      if (opts.mode === "status") res.strategy.prepareForStatusUpdate(obj, old);
      else res.strategy.prepareForUpdate(obj, old);
      if (opts.track) trackManagedFields(core, res, old, obj, opts.track);
      const admission = admissionOf(core);
      const attrs = admission && attributesFor(res, {
        operation: "UPDATE", namespace, name, object: obj, oldObject: old, dryRun: opts.dryRun,
        subresource: opts.mode === "status" ? "status" : opts.track?.subresource ?? "",
      });
      if (admission && attrs) await admission.admit(attrs);
      const errs = opts.mode === "status" && res.strategy.validateStatusUpdate !== undefined
        ? res.strategy.validateStatusUpdate(obj, old) : res.strategy.validateUpdate(obj, old);
      if (errs.length) throwInvalid(res, name, errs);
      if (admission && attrs) await admission.validate(attrs);
    } else if (opts.track) {
      trackManagedFields(core, res, old, obj, opts.track);
    }

    const meta = obj.metadata ?? {};
    if (meta.deletionTimestamp && pendingFinalizers(res, obj) === 0 && (meta.deletionGracePeriodSeconds ?? 0) === 0) {
      if (opts.dryRun) return { object: obj, deleted: true };
      const done = await removeNow(core, res, key, cur, obj);
      if (done) return done;
      continue;
    }
    if (sameStored(obj, old)) return { object: old };
    const claims = await claimsFor(core, res, obj, old, key);
    if (opts.dryRun) return { object: obj };
    const value = encodeForStore(core, res, key, obj);
    const r = await core.store.txn({
      compare: [{ key, target: "modRevision", op: "=", value: cur.modRevision }, ...claims.compare],
      success: [{ type: "put", key, value }, ...claims.ops],
    });
    if (r.succeeded) {
      obj.metadata = { ...obj.metadata, resourceVersion: String(r.revision) };
      core.codec.rememberStored(obj, value, opts.typed === true && !res.convert ? key : undefined);
      return { object: obj };
    }
    withdrawStored(key, value);
    if (rv) throw conflict(res.info.group, res.info.plural, name, MODIFIED);
  }
  throw conflict(res.info.group, res.info.plural, name, MODIFIED);
}

/** Deep equality of two JSON objects, ignoring member order (decoded and built objects differ in it). */
function sameStored(a: KubeObject, b: KubeObject): boolean {
  return jsonEqual(a, b, 0);
}

function jsonEqual(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || depth > 1000) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i], depth + 1)) return false;
    return true;
  }
  const ra = a as Record<string, unknown>; // plain JSON objects (decoded or built by handlers)
  const rb = b as Record<string, unknown>;
  let n = 0;
  for (const k in ra) {
    if (ra[k] === undefined) continue;
    n++;
    if (!jsonEqual(ra[k], rb[k], depth + 1)) return false;
  }
  for (const k in rb) if (rb[k] !== undefined) n--;
  return n === 0;
}

/** Deletes the key if unchanged since `cur`; returns undefined on a lost race. */
async function removeNow(core: ServerCore, res: Resource, key: string, cur: StoredObject, last: KubeObject): Promise<WriteResult | undefined> {
  const claims = await claimsFor(core, res, undefined, cur.object, key);
  const r = await core.store.txn({
    compare: [{ key, target: "modRevision", op: "=", value: cur.modRevision }],
    success: [{ type: "delete", key }, ...claims.ops],
  });
  if (!r.succeeded) return undefined;
  return { object: { ...last, metadata: { ...last.metadata, resourceVersion: String(r.revision) } }, deleted: true };
}

export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: "Orphan" | "Background" | "Foreground";
  readonly orphanDependents?: boolean;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly dryRun: boolean;
}

function podGrace(obj: KubeObject, requested: number | undefined): number {
  const spec = (obj["spec"] ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = ((obj["status"] ?? {}) as { phase?: string }).phase;
  // Unscheduled or finished pods have no kubelet to wait for.
  if (!spec.nodeName || phase === "Succeeded" || phase === "Failed") return 0;
  const g = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, g);
}

/**
 * Deletes one object. With finalizers (or a propagation policy that adds one) or a pod grace
 * period, the object gets deletionTimestamp (+ deletionGracePeriodSeconds) and stays.
 */
export async function deleteObject(core: ServerCore, res: Resource, namespace: string, name: string, opts: DeleteOptions): Promise<WriteResult> {
  const key = keyOf(res, namespace, name);
  const isPod = res.info.group === "" && res.info.plural === "pods";
  for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
    const cur = await readObject(core.store, core.codec, key, true); // copied before any change
    if (!cur) throw notFound(res.info.group, res.info.plural, name);
    const old = res.convert ? res.convert(cur.object) : cur.object;
    const admission = admissionOf(core);
    if (admission && attempt === 0) {
      const attrs = attributesFor(res, { operation: "DELETE", namespace, name, object: undefined, oldObject: old, dryRun: opts.dryRun });
      await admission.admit(attrs);
      await admission.validate(attrs);
    }
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata?.uid) {
      throw conflict(res.info.group, res.info.plural, name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata?.uid ?? ""}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata?.resourceVersion) {
      throw conflict(res.info.group, res.info.plural, name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata?.resourceVersion ?? ""}`);
    }
    // A shallow copy: below, only top-level members are replaced (metadata by its own copy `m`,
    // a namespace's status by a new object); nothing nested is changed.
    const obj: KubeObject = { ...old };
    const m: ObjectMetaLike = { ...(obj.metadata ?? {}) };
    const finalizers = [...(m.finalizers ?? [])];
    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? "Orphan" : opts.orphanDependents === false ? "Background" : undefined);
    if (!m.deletionTimestamp) {
      if (policy === "Orphan" && !finalizers.includes("orphan")) finalizers.push("orphan");
      if (policy === "Foreground" && !finalizers.includes("foregroundDeletion")) finalizers.push("foregroundDeletion");
    }
    const grace = isPod ? podGrace(obj, opts.gracePeriodSeconds) : 0;
    const now = core.now();
    // Finalizers on the namespace's spec block removal like metadata ones.
    const blocking = finalizers.length + namespaceSpecFinalizers(res, obj);
    if (isNamespaceResource(res) && blocking > 0) {
      obj["status"] = { ...((obj["status"] as Record<string, unknown> | undefined) ?? {}), phase: "Terminating" };
    }
    if (m.deletionTimestamp) {
      // Already being deleted: only a shorter grace period changes anything.
      const curGrace = m.deletionGracePeriodSeconds ?? 0;
      if (blocking === 0 && (grace === 0 || opts.gracePeriodSeconds === 0)) {
        if (opts.dryRun) return { object: obj, deleted: true };
        const done = await removeNow(core, res, key, cur, obj);
        if (done) return done;
        continue;
      }
      if (grace >= curGrace) return { object: old };
      m.deletionGracePeriodSeconds = grace;
      m.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
    } else if (blocking > 0 || grace > 0) {
      m.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
      m.deletionGracePeriodSeconds = grace;
    } else {
      if (opts.dryRun) return { object: obj, deleted: true };
      const done = await removeNow(core, res, key, cur, obj);
      if (done) return done;
      continue;
    }
    if (finalizers.length) m.finalizers = finalizers;
    obj.metadata = m;
    if (opts.dryRun) return { object: obj };
    const value = encodeForStore(core, res, key, obj);
    const r = await core.store.txn({
      compare: [{ key, target: "modRevision", op: "=", value: cur.modRevision }],
      success: [{ type: "put", key, value }],
    });
    if (r.succeeded) {
      obj.metadata = { ...obj.metadata, resourceVersion: String(r.revision) };
      return { object: obj };
    }
    withdrawStored(key, value);
  }
  throw conflict(res.info.group, res.info.plural, name, MODIFIED);
}
