import { describe, expect, it } from "vitest";
import { memoryConnection } from "../_memconn.ts";
import { SpdyTestClient } from "../spdy/_testclient.ts";
import { RstStatus } from "../spdy/frame.ts";
import { SpdySession } from "../spdy/session.ts";
import { parsePort, requestIdOf, StreamPairer, validateStreamHeaders } from "./pairs.ts";
import { forEachPortForward, portForwardSession } from "./session.ts";
import type { PortForwardStream } from "./types.ts";

describe("port-forward stream rules", () => {
  it("validates headers with the kubelet's messages", () => {
    expect(validateStreamHeaders({ streamtype: ["error"], port: ["80"], requestid: ["0"] })).toBeUndefined();
    expect(validateStreamHeaders({ streamtype: ["data"] })).toBe('"port" header is required');
    expect(validateStreamHeaders({ port: ["http"], streamtype: ["data"] })).toBe('unable to parse "http" as a port');
    expect(validateStreamHeaders({ port: ["70000"], streamtype: ["data"] })).toBe('unable to parse "70000" as a port');
    expect(validateStreamHeaders({ port: ["0"], streamtype: ["data"] })).toBe('port "0" must be > 0');
    expect(validateStreamHeaders({ port: ["80"] })).toBe('"streamType" header is required');
    expect(validateStreamHeaders({ port: ["80"], streamtype: ["stdin"] })).toBe('invalid stream type "stdin"');
    expect(parsePort("65535")).toBe(65535);
    expect(parsePort("-1")).toBeUndefined();
  });

  it("derives legacy request ids from stream ids when requestID is absent", () => {
    expect(requestIdOf({ requestid: ["7"] }, 1)).toBe("7");
    expect(requestIdOf({ streamtype: ["error"] }, 5)).toBe("5");
    expect(requestIdOf({ streamtype: ["data"] }, 7)).toBe("5");
  });

  it("pairs error and data streams by request id", () => {
    const p = new StreamPairer<string>();
    expect(p.add("0", "error", "e0")).toEqual({ kind: "created" });
    expect(p.add("1", "data", "d1")).toEqual({ kind: "created" });
    expect(p.add("0", "data", "d0")).toEqual({ kind: "complete", error: "e0", data: "d0" });
    expect(p.add("1", "data", "d1b")).toEqual({
      kind: "duplicate",
      message: "error processing stream for request 1: data stream already assigned",
      errorStream: undefined,
    });
    expect(p.expire("1")).toEqual({ expired: true, errorStream: undefined });
    expect(p.expire("1")).toEqual({ expired: false, errorStream: undefined });
    expect(p.pending).toBe(0);
  });
});

function setup(timeoutMs = 30_000) {
  const { server, client } = memoryConnection();
  const spdy = new SpdySession(server, { accept: (h) => validateStreamHeaders(h) });
  const session = portForwardSession(spdy, "spdy", "portforward.k8s.io", { streamCreationTimeoutMs: timeoutMs });
  const c = new SpdyTestClient({ write: (b) => client.write(b), readable: client.readable });
  return { spdy, session, c, client };
}

describe("port-forward session", () => {
  it("yields a stream per request and forwards data both ways (client-go's sequence)", async () => {
    const { session, c } = setup();
    const handled: PortForwardStream[] = [];
    const serving = forEachPortForward(session, async (s) => {
      handled.push(s);
      for await (const chunk of s.data.readable) await s.data.write(new Uint8Array([...chunk].reverse()));
    });
    const err = await c.open({ streamtype: "error", port: "8080", requestid: "0" });
    c.data(err, new Uint8Array(0), true); // client-go closes its side of the error stream at once
    const data = await c.open({ streamtype: "data", port: "8080", requestid: "0" });
    c.data(data, "abc");
    c.data(data, "", true);
    const frames = await c.until((f) => f.type === "data" && f.streamId === err && f.fin);
    expect(SpdyTestClient.dataOf(frames, data)).toBe("cba");
    expect(frames.some((f) => f.type === "data" && f.streamId === data && f.fin)).toBe(true);
    expect(SpdyTestClient.dataOf(frames, err)).toBe("");
    expect(handled.map((s) => [s.port, s.requestId])).toEqual([[8080, "0"]]);
    await session.close();
    await serving;
    c.close();
  });

  it("a failing handler's message goes to the error stream", async () => {
    const { session, c } = setup();
    const serving = forEachPortForward(session, () =>
      Promise.reject(new Error("error forwarding port 80 to pod p, uid u: dial tcp 127.0.0.1:80: connect: connection refused")));
    const err = await c.open({ streamtype: "error", port: "80", requestid: "3" });
    await c.open({ streamtype: "data", port: "80", requestid: "3" });
    const frames = await c.until((f) => f.type === "data" && f.streamId === err && f.fin);
    expect(SpdyTestClient.dataOf(frames, err)).toBe("error forwarding port 80 to pod p, uid u: dial tcp 127.0.0.1:80: connect: connection refused");
    await session.close();
    await serving;
    c.close();
  });

  it("refuses streams with bad headers and reports a missing partner after the timeout", async () => {
    const { session, c } = setup(50);
    const serving = forEachPortForward(session, () => Promise.resolve());
    const bad = await c.open({ streamtype: "data", port: "x", requestid: "1" });
    expect(await c.next()).toEqual({ type: "rst_stream", streamId: bad, status: RstStatus.RefusedStream });
    const err = await c.open({ streamtype: "error", port: "80", requestid: "2" });
    const frames = await c.until((f) => f.type === "data" && f.streamId === err && f.fin);
    expect(SpdyTestClient.dataOf(frames, err)).toBe("(request=2) timed out waiting for streams");
    await session.close();
    await serving;
    c.close();
  });

  it("a duplicate stream is reset and reported on the pair's error stream", async () => {
    const { session, c } = setup();
    const serving = forEachPortForward(session, () => Promise.resolve());
    const err = await c.open({ streamtype: "error", port: "80", requestid: "9" });
    const dup = await c.open({ streamtype: "error", port: "80", requestid: "9" });
    const frames = await c.until((f) => f.type === "rst_stream");
    expect(frames.at(-1)).toEqual({ type: "rst_stream", streamId: dup, status: RstStatus.Cancel });
    expect(SpdyTestClient.dataOf(frames, err)).toBe("error processing stream for request 9: error stream already assigned");
    await session.close();
    await serving;
    c.close();
  });

  it("the session ends when the connection drops", async () => {
    const { session, client } = setup();
    const serving = forEachPortForward(session, () => Promise.resolve());
    client.end();
    await serving;
    expect(session.signal.aborted).toBe(true);
  });
});
