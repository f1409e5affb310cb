import { describe, expect, it } from "vitest";
import { isLogOptionsError, parsePodLogOptions, podLogQuery, sinceMsOf } from "./logoptions.ts";
import { kubeletPath, parseKubeletPath } from "./paths.ts";

describe("parseKubeletPath", () => {
  it("routes the kubelet's paths", () => {
    expect(parseKubeletPath("GET", "/containerLogs/default/web/main")).toEqual({ kind: "containerLogs", namespace: "default", pod: "web", container: "main" });
    expect(parseKubeletPath("POST", "/exec/ns1/p/c")).toEqual({ kind: "exec", namespace: "ns1", pod: "p", container: "c" });
    expect(parseKubeletPath("GET", "/attach/ns1/p/c/")).toEqual({ kind: "attach", namespace: "ns1", pod: "p", container: "c" });
    expect(parseKubeletPath("GET", "/portForward/ns1/p")).toEqual({ kind: "portForward", namespace: "ns1", pod: "p" });
    expect(parseKubeletPath("GET", "/healthz")).toEqual({ kind: "healthz" });
  });

  it("refuses unknown paths, wrong methods and bad names", () => {
    expect(parseKubeletPath("GET", "/")).toEqual({ error: { status: 404, message: "404 page not found" } });
    expect(parseKubeletPath("GET", "/pods")).toMatchObject({ error: { status: 404 } });
    expect(parseKubeletPath("GET", "/exec/ns/p")).toMatchObject({ error: { status: 404 } });
    expect(parseKubeletPath("GET", "/portForward/ns/p/extra")).toMatchObject({ error: { status: 404 } });
    expect(parseKubeletPath("GET", "relative")).toMatchObject({ error: { status: 404 } });
    expect(parseKubeletPath("POST", "/containerLogs/ns/p/c")).toEqual({ error: { status: 405, message: "method POST is not allowed on /containerLogs (allowed: GET, HEAD)" } });
    expect(parseKubeletPath("DELETE", "/exec/ns/p/c")).toMatchObject({ error: { status: 405 } });
    expect(parseKubeletPath("GET", "/exec/NS/p/c")).toEqual({ error: { status: 400, message: 'invalid namespace name "NS"' } });
    expect(parseKubeletPath("GET", "/exec/ns/p/c_d")).toEqual({ error: { status: 400, message: 'invalid container name "c_d"' } });
    expect(parseKubeletPath("GET", "/exec/ns/../c")).toMatchObject({ error: { status: 400 } });
  });

  it("builds paths the parser reads back", () => {
    expect(kubeletPath("containerLogs", "default", "web", "main")).toBe("/containerLogs/default/web/main");
    expect(kubeletPath("portForward", "a", "b")).toBe("/portForward/a/b");
    expect(parseKubeletPath("GET", kubeletPath("exec", "x", "y", "z"))).toMatchObject({ kind: "exec", container: "z" });
  });
});

describe("parsePodLogOptions", () => {
  const q = (s: string) => parsePodLogOptions(new URLSearchParams(s));

  it("reads every option", () => {
    expect(q("")).toEqual({ follow: false, previous: false, timestamps: false });
    const o = q("follow=true&previous=1&timestamps=True&tailLines=2&limitBytes=100&sinceSeconds=5&stream=Stderr");
    expect(o).toEqual({ follow: true, previous: true, timestamps: true, tailLines: 2, limitBytes: 100, sinceSeconds: 5, stream: "Stderr" });
    const t = q("sinceTime=2026-01-02T03:04:05Z&stream=All");
    expect(t).toEqual({ follow: false, previous: false, timestamps: false, sinceTime: "2026-01-02T03:04:05Z", sinceTimeMs: Date.parse("2026-01-02T03:04:05Z") });
    expect(q("tailLines=0")).toMatchObject({ tailLines: 0 });
  });

  it("gives decode errors for values of the wrong type", () => {
    expect(q("follow=yes")).toEqual({ error: "decode", message: 'invalid value for follow: "yes": must be a boolean' });
    expect(q("tailLines=abc")).toEqual({ error: "decode", message: 'invalid value for tailLines: "abc": must be an integer' });
    expect(q("limitBytes=1.5")).toMatchObject({ error: "decode" });
    expect(q("sinceTime=yesterday")).toEqual({ error: "decode", message: 'invalid value for sinceTime: "yesterday": must be an RFC 3339 time' });
    expect(q("stream=both")).toMatchObject({ error: "decode" });
  });

  it("validates ranges as ValidatePodLogOptions", () => {
    expect(q("tailLines=-1")).toEqual({ error: "invalid", causes: [{ field: "tailLines", message: "Invalid value: -1: must be greater than or equal to 0" }] });
    expect(q("limitBytes=0")).toEqual({ error: "invalid", causes: [{ field: "limitBytes", message: "Invalid value: 0: must be greater than 0" }] });
    expect(q("sinceSeconds=0")).toEqual({ error: "invalid", causes: [{ field: "sinceSeconds", message: "Invalid value: 0: must be greater than 0" }] });
    expect(q("sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z")).toEqual({ error: "invalid", causes: [{ field: "", message: "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified" }] });
  });

  it("round-trips through the agent's query and computes the since instant", () => {
    const o = q("follow=true&tailLines=3&sinceSeconds=10&timestamps=true&limitBytes=9");
    if (isLogOptionsError(o)) throw new Error("unexpected");
    expect(podLogQuery(o)).toBe("follow=true&timestamps=true&tailLines=3&limitBytes=9&sinceSeconds=10");
    expect(parsePodLogOptions(new URLSearchParams(podLogQuery(o)))).toEqual(o);
    expect(sinceMsOf(o, 100_000)).toBe(90_000);
    const t = q("sinceTime=1970-01-01T00:00:05Z");
    if (isLogOptionsError(t)) throw new Error("unexpected");
    expect(sinceMsOf(t, 0)).toBe(5000);
    expect(podLogQuery({ follow: false, previous: false, timestamps: false })).toBe("");
  });
});
