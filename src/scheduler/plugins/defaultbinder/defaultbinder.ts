/** DefaultBinder: binds through the runner's `Binder` port (`pods/binding`). */
import type { BindPlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";

export const NAME = "DefaultBinder";

export function newDefaultBinder(_args: unknown, ctx: PluginContext): BindPlugin {
  return {
    name: NAME,
    async bind(_state, pod, nodeName) {
      await ctx.binder.bind(pod.pod, nodeName);
      return undefined;
    },
  } satisfies BindPlugin;
}
