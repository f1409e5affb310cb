import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../testing.ts";
import { filterResults, fixture } from "../_fixture.ts";
import { NAME, newNodeName } from "./nodename.ts";

describe(NAME, () => {
  const cases = [
    { name: "no nodeName fits everywhere", nodeName: "", want: { n1: "", n2: "" } },
    { name: "nodeName pins the node", nodeName: "n2", want: { n1: "node(s) didn't match the requested node name", n2: "" } },
    { name: "unknown nodeName fits nowhere", nodeName: "zz", want: { n1: "node(s) didn't match the requested node name", n2: "node(s) didn't match the requested node name" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = fixture([makeNode("n1"), makeNode("n2")]);
      // A pod object with spec.nodeName would bypass the scheduler; set it on the parsed info only.
      const pod = { ...f.info(makePod("p")), nodeName: c.nodeName };
      expect(filterResults(newNodeName(), f, pod)).toEqual(c.want);
    });
  }
});
