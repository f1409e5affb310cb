/** Small helpers for plugin args validation (field paths under `ctx.argsPath`). */
import { fieldErr, isRecord } from "../framework/config.ts";
import type { PluginContext } from "../framework/registry.ts";

/** The args object (empty when absent); a non-object is reported and treated as empty. */
export function argsObject(args: unknown, ctx: PluginContext, kind: string): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (!isRecord(args)) { ctx.errors.push(fieldErr.invalid(ctx.argsPath, args, `must be a ${kind} object`)); return {}; }
  const k = args["kind"];
  if (k !== undefined && k !== kind) ctx.errors.push(fieldErr.notSupported(`${ctx.argsPath}.kind`, k, [kind]));
  return args;
}

/** An integer arg in [lo, hi] or the default; out of range → error with upstream's range text. */
export function intArg(ctx: PluginContext, obj: Record<string, unknown>, key: string, def: number, lo: number, hi: number, range: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    ctx.errors.push(fieldErr.invalid(`${ctx.argsPath}.${key}`, v, `not in valid range ${range}`));
    return def;
  }
  return v;
}
