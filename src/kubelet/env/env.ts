/**
 * A container's environment as the kubelet builds it (upstream's makeEnvironmentVariables):
 *
 * 1. `envFrom` in order: every key of the ConfigMap/Secret with the prefix; keys that are not
 *    valid variable names are skipped and reported (an `InvalidEnvironmentVariableNames` event);
 *    a missing object fails unless `optional`.
 * 2. `env` in order: `value` with `$(VAR)` expansion over what is defined so far and the service
 *    variables; `valueFrom` fieldRef / resourceFieldRef / configMapKeyRef / secretKeyRef (missing
 *    object or key fails unless `optional`, with upstream's texts).
 * 3. Service variables that are not already set.
 *
 * A failure is an `EnvError`: the container waits with `CreateContainerConfigError` and the
 * message. Pure over an `ObjectSource`.
 */
import type { KeyValue } from "../runtime/types.ts";
import type { ContainerSpec, PodObject } from "../types.ts";
import { expand, lookupIn } from "./expand.ts";
import { podFieldValue, resourceFieldValue, type NodeAllocatable, type PodRuntimeFacts } from "./fieldpath.ts";
import { dataOf, secretValue, type ObjectSource } from "./objects.ts";
import { serviceEnvMap } from "./services.ts";

/** Why a container's config cannot be made (`CreateContainerConfigError`). */
export class EnvError extends Error {
  override readonly name = "EnvError";
}

/** A warning event the caller records on the pod. */
export interface EnvWarning {
  readonly reason: string;
  readonly message: string;
}

export interface EnvContext {
  readonly pod: PodObject;
  readonly container: ContainerSpec;
  readonly objects: ObjectSource;
  readonly facts: PodRuntimeFacts;
  readonly node: NodeAllocatable;
}

export interface EnvResult {
  /** In a stable order: envFrom/env definitions first (in their order), then service variables sorted. */
  readonly envs: KeyValue[];
  /** The same as a map (for `subPathExpr`, command/args expansion). */
  readonly vars: ReadonlyMap<string, string>;
  readonly warnings: EnvWarning[];
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Upstream's IsEnvVarName. */
export function isEnvVarName(s: string): boolean {
  return ENV_NAME.test(s);
}

/** Builds the environment; throws `EnvError`. */
export function makeEnvironment(ctx: EnvContext): EnvResult {
  const { pod, container, objects } = ctx;
  const ns = pod.metadata?.namespace ?? "default";
  const links = pod.spec?.enableServiceLinks ?? true;
  const serviceVars = serviceEnvMap(ns, links, objects.services(ns), ns === "default" ? objects.services(ns) : objects.services("default"));
  const vars = new Map<string, string>();
  const warnings: EnvWarning[] = [];

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    const cm = from.configMapRef, sec = from.secretRef;
    const kind = cm !== undefined ? "ConfigMap" : sec !== undefined ? "Secret" : undefined;
    if (kind === undefined) continue;
    const ref = (cm ?? sec)!;
    const name = ref.name ?? "";
    const got = objects.get(kind, ns, name);
    if ("error" in got) {
      if (ref.optional === true && got.notFound) continue;
      throw new EnvError(got.error);
    }
    const invalid: string[] = [];
    for (const [k, raw] of Object.entries(dataOf(got.object))) {
      const key = prefix + k;
      if (!isEnvVarName(key)) {
        invalid.push(key);
        continue;
      }
      vars.set(key, kind === "Secret" ? secretValue(raw) : raw);
    }
    if (invalid.length > 0) {
      invalid.sort();
      warnings.push({
        reason: "InvalidEnvironmentVariableNames",
        message: `Keys [${invalid.join(", ")}] from the EnvFrom ${kind === "ConfigMap" ? "configMap" : "secret"} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      });
    }
  }

  for (const e of container.env ?? []) {
    const name = e.name ?? "";
    let value = e.value ?? "";
    if (value !== "") {
      value = expand(value, lookupIn(vars, serviceVars));
    } else if (e.valueFrom !== undefined) {
      const vf = e.valueFrom;
      if (vf.fieldRef !== undefined) {
        try {
          value = podFieldValue(pod, vf.fieldRef.fieldPath ?? "", ctx.facts);
        } catch (err) {
          throw new EnvError((err as Error).message);
        }
      } else if (vf.resourceFieldRef !== undefined) {
        const r = vf.resourceFieldRef;
        const target = r.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === r.containerName) : container;
        if (target === undefined) throw new EnvError(`container ${JSON.stringify(r.containerName)} not found in pod ${pod.metadata?.name ?? ""}`);
        try {
          value = resourceFieldValue(target, r.resource ?? "", r.divisor as string | number | undefined, ctx.node);
        } catch (err) {
          throw new EnvError((err as Error).message);
        }
      } else if (vf.configMapKeyRef !== undefined || vf.secretKeyRef !== undefined) {
        const isCm = vf.configMapKeyRef !== undefined;
        const ref = (vf.configMapKeyRef ?? vf.secretKeyRef)!;
        const objName = ref.name ?? "", key = ref.key ?? "";
        const got = objects.get(isCm ? "ConfigMap" : "Secret", ns, objName);
        if ("error" in got) {
          if (ref.optional === true && got.notFound) continue;
          throw new EnvError(got.error);
        }
        const data = dataOf(got.object);
        if (!(key in data)) {
          if (ref.optional === true) continue;
          throw new EnvError(`couldn't find key ${key} in ${isCm ? "ConfigMap" : "Secret"} ${ns}/${objName}`);
        }
        value = isCm ? data[key]! : secretValue(data[key]!);
      }
    }
    vars.set(name, value);
  }

  const envs: KeyValue[] = [...vars].map(([key, value]) => ({ key, value }));
  for (const [k, v] of serviceVars) {
    if (!vars.has(k)) {
      vars.set(k, v);
      envs.push({ key: k, value: v });
    }
  }
  return { envs, vars, warnings };
}

/** `command`/`args` with `$(VAR)` expanded over the container's environment (as upstream does). */
export function expandArgs(list: readonly string[] | undefined, vars: ReadonlyMap<string, string>): string[] | undefined {
  if (list === undefined) return undefined;
  const look = lookupIn(vars);
  return list.map((s) => expand(s, look));
}
