/**
 * The type view server-side apply walks: structs, maps, lists (atomic / set / map) and scalars,
 * derived from the generated schema table (src/api/generated/schema.ts) plus a small sidecar of
 * facts the proto markers do not carry (`+structType=atomic`, `+mapType=atomic`, list-map key
 * defaults, and which Go struct fields are values rather than pointers).
 *
 * CRDs can later provide their own `TypeSchema` built from a structural schema; nothing else in
 * this folder knows about the proto table.
 */
import { jsonFields, messageForKind, messageSchema } from "../../api/codec/schema.ts";
import type { FieldSchema } from "../../api/codec/schema.ts";

export type ListType = "atomic" | "set" | "map";

export interface ScalarSchema {
  readonly kind: "scalar";
}

/** Free-form content (RawExtension, unknown fields): maps granular, lists atomic, like upstream's deduced type. */
export interface UntypedSchema {
  readonly kind: "untyped";
}

export interface StructField {
  readonly type: TypeSchema;
  /**
   * The Go field is a struct value (not a pointer) or a list without omitempty: upstream's typed
   * objects always carry it, so a non-apply write never "adds" or "removes" it as a whole (no `.`
   * member in Update entries).
   */
  readonly alwaysPresent: boolean;
}

export interface StructSchema {
  readonly kind: "struct";
  /** Message name, for diagnostics. */
  readonly name: string;
  readonly atomic: boolean;
  /** The declared field with this JSON name, or undefined for an unknown field. */
  field(json: string): StructField | undefined;
}

export interface MapSchema {
  readonly kind: "map";
  readonly atomic: boolean;
  readonly values: TypeSchema;
}

export interface ListSchema {
  readonly kind: "list";
  readonly listType: ListType;
  /** listMapKeys for `map` lists. */
  readonly keys: readonly string[];
  /** Defaults for key fields omitted from an item (upstream `+default`, e.g. ports' protocol "TCP"). */
  readonly keyDefaults: Readonly<Record<string, string | number | boolean>>;
  readonly items: TypeSchema;
}

export type TypeSchema = ScalarSchema | UntypedSchema | StructSchema | MapSchema | ListSchema;

/** What the public functions accept: a resolved schema, or a fully-qualified proto message name. */
export type SchemaRef = TypeSchema | string;

export const SCALAR: ScalarSchema = { kind: "scalar" };
export const UNTYPED: UntypedSchema = { kind: "untyped" };

/** Upstream `+structType=atomic` types (short message names, same in every group). */
const ATOMIC_STRUCTS = new Set([
  "LabelSelector", "OwnerReference",
  "SecretReference", "FileKeySelector", "ObjectFieldSelector", "ResourceFieldSelector", "ConfigMapKeySelector",
  "SecretKeySelector", "NodeSelector", "NodeSelectorTerm", "TopologySelectorTerm", "EvictionResponder",
  "EndpointAddress", "EndpointPort", "ObjectReference", "LocalObjectReference", "TypedLocalObjectReference",
  "ScopeSelector", "ServiceBackendPort", "Subject", "RoleRef", "CrossVersionObjectReference",
]);

/** Upstream `+mapType=atomic` map fields, as `Message.field`. */
const ATOMIC_MAPS = new Set(["PodSpec.nodeSelector", "ReplicationControllerSpec.selector", "ServiceSpec.selector"]);

/** Upstream `+default` values of list-map key fields, as `Message.field`. */
const KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ContainerPort: { protocol: "TCP" },
  ServicePort: { protocol: "TCP" },
};

/**
 * Struct-valued (non-pointer) Go fields, as `Message.field` (from k8s.io/api types.go). Every
 * ObjectMeta-typed field is also one. Only affects the `.` members of Update entries.
 */
const VALUE_STRUCTS = new Set(
  ("DaemonSet.spec DaemonSet.status DaemonSetSpec.template DaemonSetSpec.updateStrategy Deployment.spec " +
    "Deployment.status DeploymentSpec.strategy DeploymentSpec.template ReplicaSet.spec ReplicaSet.status " +
    "ReplicaSetSpec.template StatefulSet.spec StatefulSet.status StatefulSetSpec.template " +
    "StatefulSetSpec.updateStrategy HorizontalPodAutoscaler.spec HorizontalPodAutoscaler.status " +
    "HorizontalPodAutoscalerSpec.scaleTargetRef ObjectMetricSource.target ObjectMetricStatus.target Scale.spec " +
    "Scale.status ContainerResourceMetricSource.target ContainerResourceMetricStatus.current " +
    "ExternalMetricSource.metric ExternalMetricSource.target ExternalMetricStatus.current ExternalMetricStatus.metric " +
    "ObjectMetricSource.describedObject ObjectMetricSource.metric ObjectMetricStatus.current " +
    "ObjectMetricStatus.describedObject ObjectMetricStatus.metric PodsMetricSource.metric PodsMetricSource.target " +
    "PodsMetricStatus.current PodsMetricStatus.metric ResourceMetricSource.target ResourceMetricStatus.current " +
    "CronJob.spec CronJob.status CronJobSpec.jobTemplate Job.spec Job.status JobTemplateSpec.spec Lease.spec " +
    "Binding.target Container.resources ContainerStatus.lastState ContainerStatus.state " +
    "EphemeralContainerCommon.resources EphemeralContainer.resources Event.involvedObject Event.source LimitRange.spec Namespace.spec " +
    "Namespace.status Node.spec Node.status NodeDaemonEndpoints.kubeletEndpoint NodeStatus.daemonEndpoints " +
    "NodeStatus.nodeInfo PersistentVolume.spec PersistentVolume.status PersistentVolumeClaim.spec " +
    "PersistentVolumeClaim.status PersistentVolumeClaimSpec.resources PersistentVolumeClaimTemplate.spec Pod.spec " +
    "Pod.status PodTemplate.template PodTemplateSpec.spec PreferAvoidPodsEntry.podSignature " +
    "PreferredSchedulingTerm.preference ReplicationController.spec ReplicationController.status ResourceQuota.spec " +
    "ResourceQuota.status SerializedReference.reference Service.spec Service.status ServiceStatus.loadBalancer " +
    "WeightedPodAffinityTerm.podAffinityTerm Endpoint.conditions HTTPIngressPath.backend IPAddress.spec " +
    "Ingress.spec Ingress.status IngressClass.spec IngressServiceBackend.port IngressStatus.loadBalancer " +
    "NetworkPolicy.spec NetworkPolicySpec.podSelector ServiceCIDR.spec ServiceCIDR.status " +
    "PodDisruptionBudget.spec PodDisruptionBudget.status ClusterRoleBinding.roleRef RoleBinding.roleRef").split(" "),
);

/** Granular lists without `omitempty` in Go (present as null in an empty typed object). */
const ALWAYS_PRESENT_LISTS = new Set(["PodSpec.containers"]);

const OBJECT_META = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const SCALAR_TYPES = new Set(["string", "int32", "int64", "uint32", "uint64", "bool", "bytes", "double", "float"]);

const messageCache = new Map<string, TypeSchema>();

/**
 * The type of a proto message by fully-qualified name. Throws `Error` for a name the table does not
 * know (a programming error: callers pass names from the kind registry).
 */
export function schemaForMessage(fqName: string): TypeSchema {
  const cached = messageCache.get(fqName);
  if (cached) return cached;
  const ms = messageSchema(fqName);
  if (!ms) throw new Error(`fieldmanager: unknown message ${fqName}`);
  let out: TypeSchema;
  switch (ms.special) {
    case undefined:
      out = new MessageStruct(fqName, ms.name);
      break;
    case "strings":
      out = { kind: "list", listType: "atomic", keys: [], keyDefaults: {}, items: SCALAR };
      break;
    case "raw":
    case "union":
      out = UNTYPED;
      break;
    default: // time, microtime, duration, intorstring, quantity, fieldsv1: one JSON scalar (or opaque blob)
      out = SCALAR;
  }
  messageCache.set(fqName, out);
  return out;
}

/** The root type of an apiVersion/kind, or undefined when the table has no such kind. */
export function schemaForKind(apiVersion: string, kind: string): TypeSchema | undefined {
  const fq = messageForKind(apiVersion, kind);
  return fq ? schemaForMessage(fq) : undefined;
}

/** Resolves a `SchemaRef`. */
export function resolveSchema(ref: SchemaRef): TypeSchema {
  return typeof ref === "string" ? schemaForMessage(ref) : ref;
}

function typeOf(type: string): TypeSchema {
  if (SCALAR_TYPES.has(type)) return SCALAR;
  return messageSchema(type) ? schemaForMessage(type) : UNTYPED;
}

function shortName(fq: string): string {
  return fq.slice(fq.lastIndexOf(".") + 1);
}

function fieldType(owner: string, f: FieldSchema): TypeSchema {
  if (f.map) {
    return { kind: "map", atomic: ATOMIC_MAPS.has(`${owner}.${f.json}`), values: typeOf(f.type) };
  }
  if (f.repeated) {
    const items = typeOf(f.type);
    const merge = (f.patchStrategy ?? "").split(",").includes("merge");
    let listType: ListType;
    let keys: readonly string[] = [];
    if (f.listType === "map" || f.listType === "set" || f.listType === "atomic") {
      listType = f.listType;
      if (listType === "map") keys = f.listMapKeys ?? (f.patchMergeKey ? [f.patchMergeKey] : []);
    } else if (merge && f.patchMergeKey) {
      listType = "map";
      keys = [f.patchMergeKey];
    } else if (merge && items.kind === "scalar") {
      listType = "set";
    } else {
      listType = "atomic";
    }
    if (listType === "map" && keys.length === 0) listType = "atomic";
    if (listType === "set" && items.kind !== "scalar") listType = "atomic";
    const keyDefaults = KEY_DEFAULTS[shortName(f.type)] ?? {};
    return { kind: "list", listType, keys, keyDefaults, items };
  }
  return typeOf(f.type);
}

class MessageStruct implements StructSchema {
  readonly kind = "struct";
  readonly atomic: boolean;
  readonly #fq: string;
  #fields: Map<string, StructField> | undefined;

  constructor(fq: string, readonly name: string) {
    this.#fq = fq;
    this.atomic = ATOMIC_STRUCTS.has(name);
  }

  field(json: string): StructField | undefined {
    if (!this.#fields) {
      const m = new Map<string, StructField>();
      for (const [name, f] of jsonFields(this.#fq)) {
        const alwaysPresent = f.repeated
          ? ALWAYS_PRESENT_LISTS.has(`${this.name}.${name}`)
          : !f.map && (f.type === OBJECT_META || VALUE_STRUCTS.has(`${this.name}.${name}`));
        m.set(name, { type: fieldType(this.name, f), alwaysPresent });
      }
      // Kinds (messages with ObjectMeta) also carry the type envelope in JSON.
      if (m.get("metadata")?.alwaysPresent) {
        for (const tm of ["apiVersion", "kind"]) if (!m.has(tm)) m.set(tm, { type: SCALAR, alwaysPresent: false });
      }
      this.#fields = m;
    }
    return this.#fields.get(json);
  }
}
