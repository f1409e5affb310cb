import { describe, it, expect } from "vitest";
import { buildTable, includeObjectOf, partialObjectMetadata } from "./table.ts";
import type { TablePrinter } from "./registry/strategy.ts";

const printer: TablePrinter = {
  columns: [
    { name: "Name", type: "string", format: "name", description: "n", priority: 0 },
    { name: "Extra", type: "string", format: "", description: "e", priority: 1 },
  ],
  row: (o) => [o.metadata?.name ?? "", "x"],
};
const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", labels: { k: "v" } }, data: { big: "..." } };
const now = new Date("2026-01-01T00:00:00Z");

describe("tables", () => {
  it("one row per object with cells matching columns", () => {
    const t = buildTable(printer, [obj, obj], { resourceVersion: "7" }, { version: "v1", include: "Metadata", now }) as Record<string, unknown> & { rows: { cells: unknown[]; object: { kind: string } }[] };
    expect(t["kind"]).toBe("Table");
    expect(t["apiVersion"]).toBe("meta.k8s.io/v1");
    expect(t["metadata"]).toEqual({ resourceVersion: "7" });
    expect(t.rows).toHaveLength(2);
    expect(t.rows[0]?.cells).toEqual(["a", "x"]);
    expect(t.rows[0]?.object).toEqual({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata });
  });
  it("includeObject None / Object and noHeaders", () => {
    const none = buildTable(printer, [obj], {}, { version: "v1beta1", include: "None", now, noHeaders: true }) as { apiVersion: string; columnDefinitions: unknown[]; rows: Record<string, unknown>[] };
    expect(none.apiVersion).toBe("meta.k8s.io/v1beta1");
    expect(none.columnDefinitions).toEqual([]);
    expect(none.rows[0]?.["object"]).toBeUndefined();
    const full = buildTable(printer, [obj], {}, { version: "v1", include: "Object", now }) as { rows: { object: unknown }[] };
    expect(full.rows[0]?.object).toBe(obj);
  });
  it("parses includeObject", () => {
    expect(includeObjectOf(new URLSearchParams(""))).toBe("Metadata");
    expect(includeObjectOf(new URLSearchParams("includeObject=Object"))).toBe("Object");
    expect(() => includeObjectOf(new URLSearchParams("includeObject=All"))).toThrow(/includeObject/);
  });
  it("partial object metadata", () => {
    expect(partialObjectMetadata(obj, "v1")).toEqual({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata });
  });
});
