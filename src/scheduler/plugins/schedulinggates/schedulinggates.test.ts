import { describe, expect, it } from "vitest";
import { makePod } from "../../testing.ts";
import { newPodInfo } from "../../types.ts";
import { NAME, newSchedulingGates } from "./schedulinggates.ts";

describe(NAME, () => {
  const cases = [
    { name: "no gates", gates: [] as string[], want: undefined },
    { name: "gates listed like upstream", gates: ["a.io/x", "b.io/y"], want: "waiting for scheduling gates: [a.io/x b.io/y]" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const st = newSchedulingGates().preEnqueue(newPodInfo(makePod("p", { gates: c.gates }), []));
      expect(st?.message).toBe(c.want);
      if (st) expect(st.code).toBe("UnschedulableAndUnresolvable");
    });
  }
});
