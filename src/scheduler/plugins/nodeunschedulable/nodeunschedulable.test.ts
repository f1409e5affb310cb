import { describe, expect, it } from "vitest";
import { Reason } from "../../kernel/types.ts";
import { makeNode, makePod } from "../../testing.ts";
import { filterResults, fixture, kernelResults } from "../_fixture.ts";
import { NAME, newNodeUnschedulable } from "./nodeunschedulable.ts";

describe(NAME, () => {
  const cases = [
    { name: "plain pod avoids cordoned node", tolerations: [], fits: { ok: true, cordoned: false } },
    { name: "toleration of the unschedulable taint", tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }], fits: { ok: true, cordoned: true } },
    { name: "wrong effect does not help", tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoExecute" }], fits: { ok: true, cordoned: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture([makeNode("ok"), makeNode("cordoned", { unschedulable: true })]);
      const p = newNodeUnschedulable();
      const pod = f.info(makePod("p", { tolerations: c.tolerations }));
      const ts = filterResults(p, f, pod);
      const k = kernelResults([p], f, pod, {});
      for (const [n, fits] of Object.entries(c.fits)) {
        expect(ts[n]).toBe(fits ? "" : "node(s) were unschedulable");
        expect(k[n]?.status).toBe(fits ? 0 : Reason.Unschedulable);
      }
    });
  }
});
