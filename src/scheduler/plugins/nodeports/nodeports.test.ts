import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../testing.ts";
import { filterResults, fixture } from "../_fixture.ts";
import { ERR_REASON, NAME, newNodePorts } from "./nodeports.ts";

describe(NAME, () => {
  const existing = [makePod("used", { nodeName: "n1", hostPorts: [{ port: 80 }, { port: 53, protocol: "UDP" }] })];
  const cases = [
    { name: "no host ports", ports: [], want: { n1: "", n2: "" } },
    { name: "same port and protocol conflicts", ports: [{ port: 80 }], want: { n1: ERR_REASON, n2: "" } },
    { name: "other protocol is free", ports: [{ port: 80, protocol: "UDP" }], want: { n1: "", n2: "" } },
    { name: "UDP conflicts with UDP", ports: [{ port: 53, protocol: "UDP" }], want: { n1: ERR_REASON, n2: "" } },
    { name: "other port is free", ports: [{ port: 8080 }], want: { n1: "", n2: "" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture([makeNode("n1"), makeNode("n2")], existing);
      expect(filterResults(newNodePorts(), f, f.info(makePod("p", { hostPorts: c.ports })))).toEqual(c.want);
    });
  }
});
