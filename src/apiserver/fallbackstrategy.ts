/**
 * MINIMAL ADAPTER: the generic strategy used for kinds the per-kind strategy module does not
 * cover (or before it is wired): no defaults, no kind-specific validation, status kept on main
 * updates when the kind has a status subresource, generation bumped on spec changes, name/age table.
 */
import type { KubeObject } from "../api/object.ts";
import type { ResourceStrategy } from "./registry/strategy.ts";
import { defaultTablePrinter } from "./table.ts";
import type { KindInfo } from "./ports.ts";

function specOf(o: KubeObject): string {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

export function fallbackStrategy(info: KindInfo): ResourceStrategy {
  const hasStatus = info.subresources.includes("status");
  return {
    applyDefaults() {},
    prepareForCreate(obj) {
      obj.metadata = { ...(obj.metadata ?? {}), generation: 1 };
      if (hasStatus) delete obj["status"];
    },
    prepareForUpdate(obj, old) {
      if (hasStatus) {
        if (old["status"] === undefined) delete obj["status"];
        else obj["status"] = old["status"];
      }
      const gen = old.metadata?.generation ?? 1;
      obj.metadata = { ...(obj.metadata ?? {}), generation: specOf(obj) !== specOf(old) ? gen + 1 : gen };
    },
    prepareForStatusUpdate(obj, old) {
      const status = obj["status"];
      for (const k of Object.keys(obj)) delete obj[k];
      Object.assign(obj, structuredClone(old));
      if (status === undefined) delete obj["status"];
      else obj["status"] = status;
    },
    validateCreate: () => [],
    validateUpdate: () => [],
    fields(obj) {
      return {
        "metadata.name": obj.metadata?.name ?? "",
        ...(info.namespaced ? { "metadata.namespace": obj.metadata?.namespace ?? "" } : {}),
      };
    },
    table: defaultTablePrinter,
  };
}
