/** Routing of `nodes/{name}/proxy/<path>` (the proxy itself runs in src/kubelet/stats/proxy.test.ts). */
import { describe, expect, it } from "vitest";
import { parseRequest, RouteError } from "../router.ts";

const q = new URLSearchParams();

describe("nodes/proxy routing", () => {
  it("keeps the path after proxy", () => {
    expect(parseRequest("GET", "/api/v1/nodes/n1/proxy/stats/summary", q)).toMatchObject({
      type: "resource", resource: "nodes", name: "n1", subresource: "proxy", verb: "get", proxyPath: "/stats/summary",
    });
    const bare = parseRequest("GET", "/api/v1/nodes/n1/proxy", q);
    expect(bare).toMatchObject({ subresource: "proxy" });
    expect("proxyPath" in bare).toBe(false);
  });

  it("other deep paths stay 404", () => {
    expect(() => parseRequest("GET", "/api/v1/nodes/n1/status/extra", q)).toThrow(RouteError);
  });
});
