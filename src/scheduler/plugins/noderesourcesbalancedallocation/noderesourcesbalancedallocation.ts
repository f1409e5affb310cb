/** NodeResourcesBalancedAllocation: favors nodes whose resource fractions stay close (kernel score). */
import type { ResourceId } from "../../kernel/types.ts";
import type { KernelPlugin } from "../../framework/interface.ts";
import type { PluginContext } from "../../framework/registry.ts";
import { argsObject } from "../_args.ts";
import { parseResources } from "../noderesourcesfit/noderesourcesfit.ts";

export const NAME = "NodeResourcesBalancedAllocation";

export interface BalancedAllocationPlugin extends KernelPlugin {
  readonly resources: readonly ResourceId[];
}

export function newBalancedAllocation(args: unknown, ctx: PluginContext): BalancedAllocationPlugin {
  const a = argsObject(args, ctx, "NodeResourcesBalancedAllocationArgs");
  const resources = parseResources(ctx, a["resources"], `${ctx.argsPath}.resources`).map((r) => r.name);
  return {
    name: NAME,
    kernelWeight: "balancedAllocation",
    resources,
    fillKernelInput() { return undefined; },
  } satisfies BalancedAllocationPlugin;
}
