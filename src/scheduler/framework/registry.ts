/**
 * Plugin registry: name → factory. Factories validate their args and push field errors (with the
 * `argsPath` prefix) to `ctx.errors`; the profile builder throws them all as one
 * SchedulerConfigError.
 */
import type { Binder } from "../ports.ts";
import type { Handle, Plugin } from "./interface.ts";

export interface PluginContext {
  readonly handle: Handle;
  /** Field path of this plugin's args, e.g. `profiles[0].pluginConfig[2].args`. */
  readonly argsPath: string;
  readonly errors: string[];
  readonly extendedResources: readonly string[];
  readonly binder: Binder;
}

export type PluginFactory = (args: unknown, ctx: PluginContext) => Plugin;
export type Registry = ReadonlyMap<string, PluginFactory>;
