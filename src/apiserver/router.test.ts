import { describe, it, expect } from "vitest";
import { parseRequest, RouteError } from "./router.ts";

const q = (s = "") => new URLSearchParams(s);

describe("parseRequest", () => {
  const cases: [string, string, string, object][] = [
    ["GET", "/api/v1/namespaces/default/pods", "", { group: "", version: "v1", namespace: "default", resource: "pods", name: "", subresource: "", verb: "list" }],
    ["GET", "/api/v1/namespaces/default/pods/web", "", { namespace: "default", resource: "pods", name: "web", verb: "get" }],
    ["PUT", "/api/v1/namespaces/default/pods/web/status", "", { resource: "pods", name: "web", subresource: "status", verb: "update" }],
    ["GET", "/api/v1/pods", "", { namespace: "", resource: "pods", verb: "list" }],
    ["GET", "/api/v1/pods", "watch=true", { resource: "pods", verb: "watch" }],
    ["GET", "/api/v1/watch/namespaces/ns/pods", "", { namespace: "ns", resource: "pods", verb: "watch" }],
    ["GET", "/api/v1/watch/namespaces/ns/pods/x", "", { name: "x", verb: "watch" }],
    ["GET", "/api/v1/namespaces/kube-system", "", { namespace: "", resource: "namespaces", name: "kube-system", verb: "get" }],
    ["PUT", "/api/v1/namespaces/x/finalize", "", { resource: "namespaces", name: "x", subresource: "finalize", verb: "update" }],
    ["GET", "/api/v1/namespaces/x/status", "", { resource: "namespaces", name: "x", subresource: "status" }],
    ["GET", "/apis/apps/v1/namespaces/d/deployments/w/scale", "", { group: "apps", version: "v1", subresource: "scale", verb: "get" }],
    ["PATCH", "/apis/apps/v1/namespaces/d/deployments/w", "", { verb: "patch" }],
    ["DELETE", "/apis/apps/v1/namespaces/d/deployments", "", { verb: "deletecollection" }],
    ["DELETE", "/apis/apps/v1/namespaces/d/deployments/w", "", { verb: "delete" }],
    ["POST", "/api/v1/namespaces/d/pods/p/binding", "", { subresource: "binding", verb: "create" }],
    ["POST", "/api/v1/nodes", "", { resource: "nodes", verb: "create" }],
  ];
  for (const [m, p, qs, want] of cases) {
    it(`${m} ${p}?${qs}`, () => {
      const r = parseRequest(m, p, q(qs));
      expect(r.type).toBe("resource");
      expect(r).toMatchObject(want);
    });
  }
  it("ignores empty segments; reads the watch flag through any get()", () => {
    expect(parseRequest("GET", "/api/v1//namespaces/d/pods/", q())).toMatchObject({ namespace: "d", resource: "pods", name: "", verb: "list" });
    expect(parseRequest("GET", "//apis/apps/v1/deployments", q())).toMatchObject({ group: "apps", resource: "deployments", verb: "list" });
    expect(parseRequest("GET", "/api/v1/pods", { get: (k) => (k === "watch" ? "1" : null) })).toMatchObject({ verb: "watch" });
    expect(parseRequest("GET", "/api/v1/pods", { get: () => "false" })).toMatchObject({ verb: "list" });
  });
  it("discovery and non-resource paths", () => {
    expect(parseRequest("GET", "/api", q())).toEqual({ type: "rootDiscovery", prefix: "api" });
    expect(parseRequest("GET", "/apis/", q())).toEqual({ type: "rootDiscovery", prefix: "apis" });
    expect(parseRequest("GET", "/apis/apps", q())).toEqual({ type: "groupDiscovery", group: "apps" });
    expect(parseRequest("GET", "/apis/apps/v1", q())).toEqual({ type: "versionDiscovery", group: "apps", version: "v1" });
    expect(parseRequest("GET", "/api/v1", q())).toEqual({ type: "versionDiscovery", group: "", version: "v1" });
    expect(parseRequest("GET", "/version", q())).toEqual({ type: "nonResource", path: "/version" });
    expect(parseRequest("GET", "/", q())).toEqual({ type: "nonResource", path: "/" });
  });
  it("405 for methods no verb maps to, 404 for too-deep paths", () => {
    const err = (m: string, p: string) => {
      try {
        parseRequest(m, p, q());
      } catch (e) {
        return (e as RouteError).code;
      }
      return 0;
    };
    expect(err("POST", "/api/v1/namespaces/d/pods/x")).toBe(405);
    expect(err("PUT", "/api/v1/namespaces/d/pods")).toBe(405);
    expect(err("PATCH", "/api/v1/pods")).toBe(405);
    expect(err("TRACE", "/api/v1/pods")).toBe(405);
    expect(err("GET", "/api/v1/namespaces/d/pods/x/status/extra")).toBe(404);
    expect(err("GET", "/api/v1/watch")).toBe(404);
  });
});
