/**
 * The admission chain of one apiserver: mutating plugins in order, then (after the strategy's
 * validation) validating plugins in order. The chain is attached to a `ServerCore` from outside
 * (`attachAdmission`) so the core's shape does not change; the REST write path asks
 * `admissionOf(core)` and skips admission when none is attached.
 */
import type { KubeObject } from "../../api/object.ts";
import type { UserInfo } from "../../auth/authenticate.ts";
import type { Resource } from "../context.ts";
import type { AdmissionAttributes, MutatingPlugin, Operation, ValidatingPlugin } from "./types.ts";

export class AdmissionChain {
  constructor(
    readonly mutating: readonly MutatingPlugin[],
    readonly validating: readonly ValidatingPlugin[],
  ) {}

  /** Runs every mutating plugin that handles the request, in order; the first error wins. */
  async admit(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.mutating) {
      if (p.handles(attrs.operation, attrs)) await p.admit(attrs);
    }
  }

  /** Runs every validating plugin that handles the request, in order; the first error wins. */
  async validate(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.validating) {
      if (p.handles(attrs.operation, attrs)) await p.validate(attrs);
    }
  }
}

const chains = new WeakMap<object, AdmissionChain>();

/** Attaches (or, with undefined, detaches) the admission chain of an apiserver core. */
export function attachAdmission(core: object, chain: AdmissionChain | undefined): void {
  if (chain) chains.set(core, chain);
  else chains.delete(core);
}

export function admissionOf(core: object): AdmissionChain | undefined {
  return chains.get(core);
}

export interface AttributeInput {
  readonly operation: Operation;
  readonly namespace: string;
  readonly name: string;
  readonly object: KubeObject | undefined;
  readonly oldObject?: KubeObject | undefined;
  readonly subresource?: string;
  readonly dryRun: boolean;
  readonly userInfo?: UserInfo | undefined;
}

/** Builds the attributes of a request on `res` (the REST layer's view of it). */
export function attributesFor(res: Resource, a: AttributeInput): AdmissionAttributes {
  return {
    group: res.info.group,
    version: res.info.version,
    resource: res.info.plural,
    subresource: a.subresource ?? "",
    kind: res.info.kind,
    namespaced: res.info.namespaced,
    operation: a.operation,
    namespace: res.info.namespaced ? a.namespace : "",
    name: a.name,
    object: a.object,
    oldObject: a.oldObject,
    userInfo: a.userInfo,
    dryRun: a.dryRun,
  };
}
