/** The registry's dynamic kinds as an OpenAPI source (see openapi/dynamic.ts). */
import type { DynamicOpenApiSource } from "../openapi/dynamic.ts";
import type { ResourceRegistry } from "./registry.ts";

export function dynamicOpenApiOf(reg: ResourceRegistry): DynamicOpenApiSource {
  return {
    generation: () => reg.generation,
    kinds: () => reg.dynamicEntries().flatMap((e) => (e.extras.openapi ? [{ info: e.res.info, openapi: e.extras.openapi }] : [])),
  };
}
