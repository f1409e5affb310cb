/**
 * The gRPC health probe against a tiny gRPC health server written here with node:http2 (h2c):
 * SERVING, NOT_SERVING, an unknown service (NOT_FOUND), no health service (UNIMPLEMENTED), a
 * server that never answers (timeout), connection refused and garbage answers; plus the pure
 * encoder/decoder.
 */
import { createServer, type Http2Server, type ServerHttp2Stream } from "node:http2";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeHealthCheckResponse, encodeHealthCheckRequest, frameGrpcMessage, goDuration, grpcHealthCheck, judgeHealthResponse, unframeGrpcMessage,
} from "./grpcprobe.ts";
import { podNetworkProbe } from "./netprobe.ts";

/** Parses HealthCheckRequest.service out of a framed request (test side, independent of the client's encoder). */
function serviceOf(body: Buffer): string {
  if (body.length < 5 || body[0] !== 0) throw new Error("bad frame");
  const len = body.readUInt32BE(1);
  const msg = body.subarray(5, 5 + len);
  if (msg.length === 0) return "";
  if (msg[0] !== 0x0a) throw new Error("bad field");
  return msg.subarray(2, 2 + msg[1]!).toString("utf8");
}

type Behaviour = "normal" | "hang" | "garbage" | "http500" | "html" | "no-trailers-status";

/** A health server: services map to a status enum; unknown ones get NOT_FOUND, other paths UNIMPLEMENTED. */
function healthServer(services: Record<string, number>, behaviour: () => Behaviour): Http2Server {
  const server = createServer();
  server.on("stream", (stream: ServerHttp2Stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => {});
    stream.on("end", () => {
      const b = behaviour();
      if (b === "hang") return;
      if (b === "http500") {
        stream.respond({ ":status": 503 });
        stream.end("down");
        return;
      }
      if (b === "html") {
        stream.respond({ ":status": 200, "content-type": "text/html" });
        stream.end("<html></html>");
        return;
      }
      if (headers[":path"] !== "/grpc.health.v1.Health/Check" || headers["content-type"] !== "application/grpc" || headers["te"] !== "trailers") {
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "unknown service grpc.health.v1.Health" }, { endStream: true });
        return;
      }
      const svc = serviceOf(Buffer.concat(chunks));
      const st = services[svc];
      if (st === undefined) {
        // Trailers-only response, as grpc servers send for errors.
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "5", "grpc-message": "unknown%20service" }, { endStream: true });
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers(b === "no-trailers-status" ? {} : { "grpc-status": "0" }));
      stream.end(b === "garbage" ? Buffer.from([0, 0, 0, 0, 9, 0xff, 0xff]) : Buffer.from([0, 0, 0, 0, 2, 0x08, st]));
    });
  });
  return server;
}

let server: Http2Server;
let port: number;
let mode: Behaviour = "normal";

beforeAll(async () => {
  server = healthServer({ "": 1, live: 1, sick: 2, unknown: 0 }, () => mode);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const check = (service: string, timeoutMs = 1000): Promise<void> => grpcHealthCheck({ host: "127.0.0.1", port, service, timeoutMs });

describe("gRPC health check against a server", () => {
  it("succeeds on SERVING for the overall health and a named service", async () => {
    mode = "normal";
    await expect(check("")).resolves.toBeUndefined();
    await expect(check("live")).resolves.toBeUndefined();
    await expect(podNetworkProbe({ grpc: { port, service: "live" } }, "127.0.0.1")).resolves.toBe(true);
  });

  it("fails on NOT_SERVING and UNKNOWN with the kubelet's message", async () => {
    mode = "normal";
    await expect(check("sick")).rejects.toThrow('service unhealthy (responded with "NOT_SERVING")');
    await expect(check("unknown")).rejects.toThrow('service unhealthy (responded with "UNKNOWN")');
  });

  it("an unknown service is NOT_FOUND (grpc-status 5), the message percent-decoded", async () => {
    mode = "normal";
    await expect(check("nope")).rejects.toThrow("error: health rpc probe failed: rpc error: code = NotFound desc = unknown service");
  });

  it("honours the timeout when the server never answers", async () => {
    mode = "hang";
    const t0 = Date.now();
    await expect(check("", 300)).rejects.toThrow("timeout: health rpc did not complete within 300ms");
    expect(Date.now() - t0).toBeLessThan(2000);
    mode = "normal";
  });

  it("connection refused", async () => {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const free = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(grpcHealthCheck({ host: "127.0.0.1", port: free, timeoutMs: 1000 })).rejects.toThrow(
      `error: health rpc probe failed: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:${free}: connect: connection refused"`,
    );
  });

  it("garbage answers: a malformed message, a non-200 status, a non-gRPC content type, no grpc-status", async () => {
    mode = "garbage";
    await expect(check("live")).rejects.toThrow(/^error: health rpc probe failed: rpc error: code = Internal desc = grpc: failed to unmarshal the received message: truncated gRPC frame/);
    mode = "http500";
    await expect(check("live")).rejects.toThrow("rpc error: code = Unavailable desc = unexpected HTTP status code received from server: 503");
    mode = "html";
    await expect(check("live")).rejects.toThrow('received unexpected content-type "text/html"');
    mode = "no-trailers-status";
    await expect(check("live")).rejects.toThrow("code = Internal desc = server closed the stream without sending trailers");
    mode = "normal";
  });

  it("a plain HTTP/1 or non-HTTP/2 server fails the check (no hang past the timeout)", async () => {
    const socks = new Set<import("node:net").Socket>();
    const s = createNetServer((sock) => {
      socks.add(sock);
      sock.on("error", () => {});
      sock.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const p = (s.address() as AddressInfo).port;
    await expect(grpcHealthCheck({ host: "127.0.0.1", port: p, timeoutMs: 1000 })).rejects.toThrow(/^error: health rpc probe failed: rpc error: code = Unavailable desc = /);
    for (const x of socks) x.destroy();
    s.close();
  });

  it("podNetworkProbe rejects a bad port and a missing pod IP", async () => {
    await expect(podNetworkProbe({ grpc: { port: 0 } }, "127.0.0.1")).rejects.toThrow("invalid gRPC probe port 0: must be 1-65535");
    await expect(podNetworkProbe({ grpc: { port: 70000 } }, "127.0.0.1")).rejects.toThrow("must be 1-65535");
    await expect(podNetworkProbe({ grpc: { port } }, undefined)).rejects.toThrow("no pod IP to probe");
  });
});

describe("gRPC health messages (pure)", () => {
  it("encodes HealthCheckRequest and frames it", () => {
    expect([...encodeHealthCheckRequest("")]).toEqual([]);
    expect([...encodeHealthCheckRequest("ab")]).toEqual([0x0a, 2, 0x61, 0x62]);
    const long = encodeHealthCheckRequest("x".repeat(200));
    expect([...long.subarray(0, 3)]).toEqual([0x0a, 0xc8, 0x01]);
    expect([...frameGrpcMessage(Uint8Array.from([1, 2]))]).toEqual([0, 0, 0, 0, 2, 1, 2]);
  });

  it("decodes HealthCheckResponse, skipping unknown fields", () => {
    expect(decodeHealthCheckResponse(Uint8Array.from([]))).toEqual({ status: 0 });
    expect(decodeHealthCheckResponse(Uint8Array.from([0x08, 1]))).toEqual({ status: 1 });
    // field 2 (len-delimited "hi"), field 3 fixed32, then status 2
    expect(decodeHealthCheckResponse(Uint8Array.from([0x12, 2, 0x68, 0x69, 0x1d, 1, 2, 3, 4, 0x08, 2]))).toEqual({ status: 2 });
  });

  it("rejects malformed frames and messages", () => {
    expect(() => unframeGrpcMessage(new Uint8Array(0))).toThrow("the server sent no response message");
    expect(() => unframeGrpcMessage(Uint8Array.from([0, 0]))).toThrow("truncated gRPC frame: 2 byte(s)");
    expect(() => unframeGrpcMessage(Uint8Array.from([1, 0, 0, 0, 0]))).toThrow("compressed response message");
    expect(() => unframeGrpcMessage(Uint8Array.from([7, 0, 0, 0, 0]))).toThrow("invalid gRPC frame flag 7");
    expect(() => unframeGrpcMessage(Uint8Array.from([0, 0, 0, 0, 3, 8]))).toThrow("message of 3 bytes, got 1");
    expect(() => unframeGrpcMessage(Uint8Array.from([0, 0x7f, 0, 0, 0]))).toThrow("exceeds the limit");
    expect(() => decodeHealthCheckResponse(Uint8Array.from([0x08]))).toThrow("truncated varint");
    expect(() => decodeHealthCheckResponse(Uint8Array.from([0x0b]))).toThrow("unsupported wire type 3");
    expect(() => decodeHealthCheckResponse(Uint8Array.from([0x12, 5, 1]))).toThrow("truncated field 2");
    expect(() => decodeHealthCheckResponse(Uint8Array.from([0x00, 1]))).toThrow("invalid field number 0");
    expect(() => decodeHealthCheckResponse(Uint8Array.from(Array(11).fill(0xff)))).toThrow("varint longer than 10 bytes");
  });

  it("judges responses: UNIMPLEMENTED gets the kubelet's wording; goDuration", () => {
    const ok = { ":status": 200, "content-type": "application/grpc" };
    expect(() => judgeHealthResponse({ ...ok, "grpc-status": "12", "grpc-message": "unknown service grpc.health.v1.Health" }, undefined, new Uint8Array(0))).toThrow(
      "timeout: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health",
    );
    expect(() => judgeHealthResponse(ok, { "grpc-status": "x" }, new Uint8Array(0))).toThrow("malformed grpc-status");
    expect(() => judgeHealthResponse({ ...ok, "content-type": "application/grpc+proto" }, { "grpc-status": "0" }, Uint8Array.from([0, 0, 0, 0, 2, 8, 1]))).not.toThrow();
    expect(() => judgeHealthResponse(ok, { "grpc-status": "0" }, Uint8Array.from([0, 0, 0, 0, 2, 8, 9]))).toThrow('service unhealthy (responded with "9")');
    expect(goDuration(1000)).toBe("1s");
    expect(goDuration(1500)).toBe("1.5s");
    expect(goDuration(250)).toBe("250ms");
  });
});
