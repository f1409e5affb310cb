import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { parseHead } from "./dial.ts";
import { checkNotCompleted, checkRunning, containerFor, isLoopbackHost, kubeletEndpointOf, nodeNameOf } from "./target.ts";

const pod = (spec: Record<string, unknown>, phase = "Running"): KubeObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default" }, spec, status: { phase } });
const node = (annotations: Record<string, string> | undefined, ip?: string, port?: number): KubeObject => ({
  apiVersion: "v1", kind: "Node", metadata: { name: "n1", ...(annotations ? { annotations } : {}) },
  status: { ...(ip ? { addresses: [{ type: "InternalIP", address: ip }] } : {}), ...(port !== undefined ? { daemonEndpoints: { kubeletEndpoint: { Port: port } } } : {}) },
});

describe("proxy target checks", () => {
  it("picks the container like the apiserver", () => {
    const one = pod({ containers: [{ name: "main" }], initContainers: [{ name: "init" }] });
    expect(containerFor(one, "")).toBe("main");
    expect(containerFor(one, "init")).toBe("init");
    expect(() => containerFor(one, "x")).toThrow("container x is not valid for pod web");
    const two = pod({ containers: [{ name: "a" }, { name: "b" }], initContainers: [{ name: "i" }] });
    expect(() => containerFor(two, "")).toThrow("a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i]");
  });

  it("needs a node, a live pod for exec/attach and a Running one for port-forward", () => {
    expect(nodeNameOf(pod({ nodeName: "n1" }))).toBe("n1");
    expect(() => nodeNameOf(pod({}))).toThrow("pod web does not have a host assigned");
    expect(() => checkNotCompleted(pod({}, "Succeeded"), "exec")).toThrow("cannot exec into a container in a completed pod; current phase is Succeeded");
    expect(() => checkNotCompleted(pod({}, "Failed"), "attach")).toThrow("cannot attach to a container in a completed pod; current phase is Failed");
    checkNotCompleted(pod({}, "Running"), "exec");
    expect(() => checkRunning(pod({}, "Pending"))).toThrow("unable to forward port because pod is not running. Current status=Pending");
    checkRunning(pod({}));
  });

  it("finds the endpoint: annotation first, else InternalIP + daemon port; loopback only", () => {
    expect(kubeletEndpointOf(node({ "tugboat.dev/kubelet-endpoint": "https://127.0.0.1:4567" })).href).toBe("https://127.0.0.1:4567/");
    expect(kubeletEndpointOf(node(undefined, "127.1.0.3", 10250)).host).toBe("127.1.0.3:10250");
    expect(kubeletEndpointOf(node(undefined, "::1", 10250)).host).toBe("[::1]:10250");
    expect(() => kubeletEndpointOf(node(undefined, "10.0.0.5", 10250))).toThrow("cannot reach the node agent of node n1: its endpoint 10.0.0.5:10250 is not a loopback address");
    expect(() => kubeletEndpointOf(node({ "tugboat.dev/kubelet-endpoint": "https://192.168.1.1:1" }))).toThrow("not a loopback address");
    expect(() => kubeletEndpointOf(node({ "tugboat.dev/kubelet-endpoint": "http://127.0.0.1:1" }))).toThrow("must be https://HOST:PORT");
    expect(() => kubeletEndpointOf(node({ "tugboat.dev/kubelet-endpoint": "https://127.0.0.1" }))).toThrow("must be https://HOST:PORT");
    expect(() => kubeletEndpointOf(node({ "tugboat.dev/kubelet-endpoint": "not a url" }))).toThrow("is not a URL");
    expect(() => kubeletEndpointOf(node(undefined, "127.0.0.1"))).toThrow("advertises no kubelet endpoint");
    expect(() => kubeletEndpointOf(node(undefined, "127.0.0.1", 0))).toThrow("advertises no kubelet endpoint");
    try {
      kubeletEndpointOf(node(undefined));
    } catch (e) {
      expect((e as { code: number }).code).toBe(503);
    }
  });

  it("knows loopback", () => {
    for (const h of ["127.0.0.1", "127.255.0.9", "::1", "[::1]", "localhost"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["128.0.0.1", "127.0.0.256", "10.0.0.1", "example.com", "::2"]) expect(isLoopbackHost(h)).toBe(false);
  });

  it("parses the agent's answer head", () => {
    expect(parseHead("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-A: 1\r\nx-a: 2")).toEqual({ status: 101, headers: { Upgrade: "websocket", "X-A": "1, 2" } });
    expect(parseHead("HTTP/1.1 403\r\nContent-Type: text/plain")).toEqual({ status: 403, headers: { "Content-Type": "text/plain" } });
    expect(parseHead("SPDY nonsense")).toBeUndefined();
    expect(parseHead("HTTP/1.1 200 OK\r\nbroken line")).toBeUndefined();
  });
});
