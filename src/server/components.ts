/**
 * The components `tug up` runs in one process, in start order: the apiserver, the
 * controller-manager, the scheduler and (tug up only) a node agent. Pure.
 */

export interface ComponentInfo {
  readonly name: string;
  readonly description: string;
  /** Required components cannot be disabled (everything else talks to them). */
  readonly required: boolean;
}

export const COMPONENTS: readonly ComponentInfo[] = [
  { name: "apiserver", description: "Kubernetes API (store, watch cache, REST, discovery)", required: true },
  { name: "controller-manager", description: "controllers: deployment, replicaset, statefulset, daemonset, job, cronjob, ttl, garbage collector, namespace, serviceaccount, node lifecycle, endpointslice, endpoints, pod gc", required: false },
  { name: "scheduler", description: "kube-scheduler semantics, every node scored (WASM kernel); binds pods through pods/binding", required: false },
  { name: "agent", description: "node agent (kubelet) named after the host, hollow runtime; run by `tug up` only", required: false },
];

/**
 * Validates `--disable` names and returns the set of components to run.
 * Throws `Error` for an unknown name or a required component.
 */
export function selectComponents(disable: readonly string[]): Set<string> {
  const known = new Map(COMPONENTS.map((c) => [c.name, c]));
  const off = new Set<string>();
  for (const raw of disable) {
    for (const name of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
      const c = known.get(name);
      if (c === undefined) {
        throw new Error(`unknown component "${name}" in --disable (known: ${COMPONENTS.map((k) => k.name).join(", ")})`);
      }
      if (c.required) throw new Error(`component "${name}" is required and cannot be disabled`);
      off.add(name);
    }
  }
  return new Set(COMPONENTS.map((c) => c.name).filter((n) => !off.has(n)));
}
