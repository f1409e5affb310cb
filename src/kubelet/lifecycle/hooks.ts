/**
 * Container lifecycle hooks (postStart, preStop) with the kubelet's semantics:
 *
 * - `exec` runs through the runtime's exec; a non-zero exit fails the hook;
 * - `httpGet` goes to the pod IP (or `host`); only a connection failure fails it — any HTTP
 *   status counts as delivered, as upstream's handler runner does;
 * - `sleep` waits `seconds`.
 *
 * The pod worker: a failed postStart records `FailedPostStartHook` ("PostStartHook failed") and
 * kills the container, which then restarts per policy; preStop runs before the stop signal,
 * bounded by the grace period, and what it used is taken from the grace period (at least 2 s
 * remain); a failed preStop records `FailedPreStopHook` and the stop goes on.
 */
import { execSync } from "../runtime/streams.ts";
import type { Clock } from "../runtime/clock.ts";
import type { RuntimeService } from "../runtime/types.ts";
import { podDesc, type ContainerSpec, type PodObject } from "../types.ts";
import { httpGet } from "./netprobe.ts";

type Handler = NonNullable<NonNullable<ContainerSpec["lifecycle"]>["postStart"]>;

export interface HookContext {
  readonly runtime: RuntimeService;
  readonly clock: Clock;
  readonly pod: PodObject;
  readonly container: ContainerSpec;
  readonly containerId: string;
  readonly podIP: string | undefined;
  /** Upper bound of the hook's run (postStart: a default; preStop: the grace period). */
  readonly timeoutMs: number;
  /** Whether the runtime has a pod network (false: httpGet hooks are skipped as delivered). */
  readonly network: boolean;
}

export type HookResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Go's `%v` of a string slice. */
function goSlice(a: readonly string[]): string {
  return `[${a.join(" ")}]`;
}

/** Runs one handler; never throws. */
export async function runHook(h: Handler, ctx: HookContext): Promise<HookResult> {
  const cname = JSON.stringify(ctx.container.name ?? "");
  const pod = JSON.stringify(podDesc(ctx.pod));
  if (h.exec !== undefined) {
    const cmd = h.exec.command ?? [];
    try {
      if (cmd.length === 0) throw new Error("empty command");
      const r = await execSync(ctx.runtime, ctx.containerId, cmd, { timeoutMs: Math.max(1, ctx.timeoutMs), clock: ctx.clock, maxOutputBytes: 64 * 1024 });
      if (r.exitCode === 0) return { ok: true };
      const output = r.stdout + r.stderr;
      return { ok: false, message: `Exec lifecycle hook (${goSlice(cmd)}) for Container ${cname} in Pod ${pod} failed - error: command '${cmd.join(" ")}' exited with ${r.exitCode}: ${r.stderr}, message: ${JSON.stringify(output)}` };
    } catch (err) {
      return { ok: false, message: `Exec lifecycle hook (${goSlice(cmd)}) for Container ${cname} in Pod ${pod} failed - error: ${(err as Error).message}, message: ""` };
    }
  }
  if (h.httpGet !== undefined) {
    if (!ctx.network) return { ok: true };
    try {
      await httpGet(h.httpGet, ctx.podIP, ctx.container, Math.max(1, ctx.timeoutMs));
      return { ok: true };
    } catch (err) {
      return { ok: false, message: `HTTP lifecycle hook (${h.httpGet.path ?? ""}) for Container ${cname} in Pod ${pod} failed - error: ${(err as Error).message}` };
    }
  }
  const sleep = (h as { sleep?: { seconds?: number } }).sleep; // `sleep` handlers (newer API field)
  if (sleep !== undefined) {
    const ms = Math.min(Math.max(0, (sleep.seconds ?? 0) * 1000), ctx.timeoutMs);
    await new Promise<void>((r) => ctx.clock.setTimeout(r, ms));
    return { ok: true };
  }
  return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(h)}` };
}

/** The minimum grace period left for the stop signal after a preStop hook (upstream's 2 s). */
export const MIN_GRACE_SECONDS = 2;

/**
 * Runs the preStop hook (if any) bounded by `graceSeconds`; returns the grace period left for the
 * stop (`grace - elapsed`, at least 2 s when a hook ran) and the failure message, if any.
 */
export async function runPreStop(ctx: Omit<HookContext, "timeoutMs">, graceSeconds: number): Promise<{ graceSeconds: number; failure?: string }> {
  const h = ctx.container.lifecycle?.preStop;
  if (h === undefined || graceSeconds <= 0) return { graceSeconds };
  const start = ctx.clock.now();
  let timer: ReturnType<Clock["setTimeout"]> | undefined;
  const bounded = new Promise<"timeout">((r) => {
    timer = ctx.clock.setTimeout(() => r("timeout"), graceSeconds * 1000);
  });
  const r = await Promise.race([runHook(h, { ...ctx, timeoutMs: graceSeconds * 1000 }), bounded]);
  if (timer !== undefined) ctx.clock.clearTimeout(timer);
  const used = Math.floor((ctx.clock.now() - start) / 1000);
  const left = Math.max(MIN_GRACE_SECONDS, graceSeconds - used);
  if (r === "timeout") return { graceSeconds: left };
  return r.ok ? { graceSeconds: left } : { graceSeconds: left, failure: r.message };
}

/** Pod-level `activeDeadlineSeconds`: the time (ms) the pod must be stopped at, or undefined. */
export function activeDeadlineAt(pod: PodObject, startTimeMs: number | undefined): number | undefined {
  const d = pod.spec?.activeDeadlineSeconds;
  if (d === undefined || d === null || startTimeMs === undefined) return undefined;
  return startTimeMs + Number(d) * 1000;
}

export const DEADLINE_REASON = "DeadlineExceeded";
export const DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline";
