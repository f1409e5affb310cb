/**
 * The prober: startup, liveness and readiness probes of running containers, each a task on the
 * shared timer queue (no timer per probe; a container without probes costs nothing).
 *
 * Semantics (the kubelet's): probes start `initialDelaySeconds` after the container started and
 * run every `periodSeconds`; a result flips only after `successThreshold` consecutive successes or
 * `failureThreshold` consecutive failures. Liveness and readiness wait for the startup probe.
 * Readiness starts false, liveness and startup start "not failed". A failed startup or liveness
 * probe asks the pod worker to restart the container. Exec probes run through the runtime's exec
 * (exit 0 = success); httpGet, tcpSocket and grpc probes go to `networkProbe`, which for runtimes
 * without a network (hollow) succeeds.
 */
import type { RuntimeService } from "./runtime/types.ts";
import { execSync } from "./runtime/streams.ts";
import type { ScheduledTask, TimerQueue } from "./runtime/timers.ts";
import type { ContainerSpec, Probe } from "./types.ts";
import type { ProbeView } from "./podstatus.ts";

export type ProbeKind = "startup" | "liveness" | "readiness";

/**
 * Checks an httpGet/tcpSocket/grpc probe against the pod IP; resolves true on success. A rejection
 * is a failure whose message the `Unhealthy` event carries. `container` resolves named ports.
 */
export type NetworkProbe = (probe: Probe, podIP: string | undefined, container?: ContainerSpec) => Promise<boolean>;

/** The default for runtimes without a pod network: network probes succeed. */
export const alwaysSucceeds: NetworkProbe = async () => true;

interface ProbeState {
  readonly kind: ProbeKind;
  readonly probe: Probe;
  successes: number;
  failures: number;
  /** Current result: true = success. */
  result: boolean;
  task: ScheduledTask | undefined;
  running: boolean;
}

interface ContainerProbes {
  readonly containerId: string;
  readonly spec: ContainerSpec;
  readonly podIP: string | undefined;
  readonly probes: ProbeState[];
  stopped: boolean;
}

export interface ProberOptions {
  readonly runtime: RuntimeService;
  readonly timers: TimerQueue;
  /** A result changed: the pod worker of `podUid` should sync. */
  readonly onChange: (podUid: string) => void;
  readonly networkProbe?: NetworkProbe;
  /** A probe check failed (every failure, as the kubelet records an `Unhealthy` event for each). */
  readonly onFailure?: (podUid: string, containerName: string, kind: ProbeKind, message: string) => void;
}

const sec = (v: number | undefined, dflt: number): number => (v !== undefined && v >= 0 ? v : dflt);

export class Prober {
  readonly #containers = new Map<string, ContainerProbes>();
  readonly #net: NetworkProbe;

  constructor(private readonly opts: ProberOptions) {
    this.#net = opts.networkProbe ?? alwaysSucceeds;
  }

  static #key(podUid: string, name: string): string {
    return `${podUid}/${name}`;
  }

  /** Number of containers with probe workers. */
  get size(): number {
    return this.#containers.size;
  }

  /**
   * Makes sure the probes of a running container run (idempotent per container id; a new id
   * replaces the workers of the previous attempt).
   */
  ensure(podUid: string, spec: ContainerSpec, containerId: string, startedAtMs: number, podIP: string | undefined): void {
    const name = spec.name ?? "";
    const key = Prober.#key(podUid, name);
    const cur = this.#containers.get(key);
    if (cur !== undefined && cur.containerId === containerId) return;
    if (cur !== undefined) this.#stop(cur);
    const probes: ProbeState[] = [];
    const add = (kind: ProbeKind, p: Probe | undefined): void => {
      if (p === undefined) return;
      probes.push({ kind, probe: p, successes: 0, failures: 0, result: kind !== "readiness" && kind !== "startup", task: undefined, running: false });
    };
    add("startup", spec.startupProbe);
    add("liveness", spec.livenessProbe);
    add("readiness", spec.readinessProbe);
    if (probes.length === 0) {
      this.#containers.delete(key);
      return;
    }
    const cp: ContainerProbes = { containerId, spec, podIP, probes, stopped: false };
    this.#containers.set(key, cp);
    for (const p of probes) {
      const at = startedAtMs + sec(p.probe.initialDelaySeconds, 0) * 1000;
      p.task = this.opts.timers.scheduleAt(Math.max(at, this.opts.timers.clock.now()), () => void this.#run(podUid, cp, p));
    }
  }

  /** Probe results of the pod's current container `name` (no probes: ready and started). */
  view(podUid: string, name: string, containerId: string): ProbeView {
    const cp = this.#containers.get(Prober.#key(podUid, name));
    if (cp === undefined || cp.containerId !== containerId) return { ready: true, started: true };
    const startup = cp.probes.find((p) => p.kind === "startup");
    const started = startup === undefined || startup.result;
    const readiness = cp.probes.find((p) => p.kind === "readiness");
    return { started, ready: started && (readiness === undefined || readiness.result) };
  }

  /** Which probe (startup or liveness) has failed for the container, if any. */
  failed(podUid: string, name: string, containerId: string): { kind: ProbeKind; probe: Probe } | undefined {
    const cp = this.#containers.get(Prober.#key(podUid, name));
    if (cp === undefined || cp.containerId !== containerId) return undefined;
    const f = cp.probes.find((p) => (p.kind === "liveness" || p.kind === "startup") && !p.result && p.failures >= sec(p.probe.failureThreshold, 3));
    return f ? { kind: f.kind, probe: f.probe } : undefined;
  }

  /** Stops the probes of one container name of the pod. */
  removeContainer(podUid: string, name: string): void {
    const key = Prober.#key(podUid, name);
    const cp = this.#containers.get(key);
    if (cp !== undefined) this.#stop(cp);
    this.#containers.delete(key);
  }

  /** Stops every probe of the pod. */
  removePod(podUid: string): void {
    const prefix = `${podUid}/`;
    for (const [k, cp] of this.#containers) {
      if (k.startsWith(prefix)) {
        this.#stop(cp);
        this.#containers.delete(k);
      }
    }
  }

  #stop(cp: ContainerProbes): void {
    cp.stopped = true;
    for (const p of cp.probes) p.task?.cancel();
  }

  async #check(cp: ContainerProbes, p: Probe): Promise<{ ok: boolean; message: string }> {
    if (p.exec !== undefined) {
      const cmd = p.exec.command ?? [];
      if (cmd.length === 0) return { ok: false, message: "empty exec command" };
      try {
        const r = await execSync(this.opts.runtime, cp.containerId, cmd, { timeoutMs: sec(p.timeoutSeconds, 1) * 1000 || 1000, clock: this.opts.timers.clock, maxOutputBytes: 10 * 1024 });
        return { ok: r.exitCode === 0, message: (r.stdout + r.stderr).trim() };
      } catch (err) {
        // not running, timed out, cannot exec: a failure
        return { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
    }
    try {
      const ok = await this.#net(p, cp.podIP, cp.spec);
      return { ok, message: "" };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }

  async #run(podUid: string, cp: ContainerProbes, st: ProbeState): Promise<void> {
    st.task = undefined;
    if (cp.stopped || st.running) return;
    // Liveness and readiness wait until the startup probe succeeded.
    const startup = cp.probes.find((p) => p.kind === "startup");
    const gated = st.kind !== "startup" && startup !== undefined && !startup.result;
    let changed = false;
    if (!gated && !(st.kind === "startup" && st.result)) {
      st.running = true;
      const { ok, message } = await this.#check(cp, st.probe);
      st.running = false;
      if (cp.stopped) return;
      if (!ok) this.opts.onFailure?.(podUid, cp.spec.name ?? "", st.kind, message);
      if (ok) {
        st.failures = 0;
        st.successes++;
        if (!st.result && st.successes >= Math.max(1, sec(st.probe.successThreshold, 1))) { st.result = true; changed = true; }
      } else {
        st.successes = 0;
        st.failures++;
        if (st.result && st.failures >= Math.max(1, sec(st.probe.failureThreshold, 3))) { st.result = false; changed = true; }
        else if (!st.result && st.kind === "startup" && st.failures >= Math.max(1, sec(st.probe.failureThreshold, 3))) changed = true;
      }
    }
    // A succeeded startup probe stops; everything else keeps its period.
    if (!(st.kind === "startup" && st.result)) {
      st.task = this.opts.timers.schedule(Math.max(1, sec(st.probe.periodSeconds, 10)) * 1000, () => void this.#run(podUid, cp, st));
    }
    if (changed) this.opts.onChange(podUid);
  }
}
