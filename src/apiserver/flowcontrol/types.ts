/**
 * API Priority and Fairness (APF) configuration and request shapes. The configuration types are
 * the `spec` parts of flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration
 * (same field names and meanings), so the built-in defaults read like upstream's objects.
 */

/** `*` stands for "every" in verbs, apiGroups, resources, namespaces and nonResourceURLs. */
export const ALL = "*";

export type Subject =
  | { readonly kind: "User"; readonly user: { readonly name: string } }
  | { readonly kind: "Group"; readonly group: { readonly name: string } }
  | { readonly kind: "ServiceAccount"; readonly serviceAccount: { readonly namespace: string; readonly name: string } };

export interface ResourcePolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups: readonly string[];
  /** Plural resource names, `resource/subresource` for subresources, or `*`. */
  readonly resources: readonly string[];
  /** Matches cluster-scoped requests (and requests not naming a namespace). */
  readonly clusterScope?: boolean;
  /** Namespaces of namespaced requests; `*` matches every namespace. */
  readonly namespaces?: readonly string[];
}

export interface NonResourcePolicyRule {
  readonly verbs: readonly string[];
  /** Exact paths, `/prefix/*` prefixes, or `*`. */
  readonly nonResourceURLs: readonly string[];
}

export interface PolicyRulesWithSubjects {
  readonly subjects: readonly Subject[];
  readonly resourceRules?: readonly ResourcePolicyRule[];
  readonly nonResourceRules?: readonly NonResourcePolicyRule[];
}

export type DistinguisherMethod = "ByUser" | "ByNamespace";

export interface FlowSchema {
  readonly name: string;
  /** Deterministic for built-in objects; sent in `X-Kubernetes-PF-FlowSchema-UID`. */
  readonly uid: string;
  readonly priorityLevel: string;
  /** Lower matches first; ties are broken by name. */
  readonly matchingPrecedence: number;
  /** Absent: every request of the schema is one flow. */
  readonly distinguisherMethod?: DistinguisherMethod;
  readonly rules: readonly PolicyRulesWithSubjects[];
}

export interface QueuingConfiguration {
  readonly queues: number;
  readonly handSize: number;
  readonly queueLengthLimit: number;
}

export interface PriorityLevel {
  readonly name: string;
  readonly uid: string;
  readonly type: "Exempt" | "Limited";
  /** Share of the server's concurrency limit (Limited levels). */
  readonly nominalConcurrencyShares: number;
  /** Upstream's borrowing bound; recorded, not used (no borrowing here). */
  readonly lendablePercent: number;
  /** Absent on a Limited level: requests beyond the limit are rejected at once (LimitResponse Reject). */
  readonly queuing?: QueuingConfiguration;
}

/** What classification needs to know about one request (built by the handler after authentication). */
export interface RequestDigest {
  readonly user: { readonly name: string; readonly groups: readonly string[] };
  /** Kubernetes verb for resource requests (get, list, watch, create, ...), lower-case HTTP method otherwise. */
  readonly verb: string;
  readonly isResourceRequest: boolean;
  /** Resource requests: API group ("" = core), plural resource, subresource ("" = none), namespace ("" = cluster/all). */
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  /** Non-resource requests: the path. */
  readonly path: string;
}

/** The outcome of classification: schema, level and the flow (queue-assignment key). */
export interface Classification {
  readonly schema: FlowSchema;
  readonly level: PriorityLevel;
  /** Distinguisher value ("" when the schema has none). */
  readonly distinguisher: string;
  /** `<schema>\u0000<distinguisher>`: requests with the same key share a hand of queues. */
  readonly flowKey: string;
}
