/**
 * Bench helper: a throwaway single-member etcd on loopback, driven through its HTTP/JSON gRPC
 * gateway (`POST /v3/kv/put`, base64 key and value) with an undici keep-alive pool.
 * The process is started by us, with its own data dir and OS-picked loopback ports, and stopped
 * by PID.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { connect } from "node:http2";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";

export interface Etcd {
  readonly url: string;
  readonly version: string;
  readonly pid: number;
  /** A gateway (HTTP/1.1 JSON) client: keep-alive undici pool with up to `connections` sockets. */
  client(connections: number): EtcdClient;
  /** A native gRPC client: one HTTP/2 connection, one stream per put, hand-encoded protobuf. */
  grpcClient(): EtcdClient;
  stop(): Promise<void>;
}

export interface EtcdClient {
  put(key: string, value: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

const ETCD = "/usr/bin/etcd";

/** The etcd version string, or undefined when the binary is missing. */
export function etcdVersion(): string | undefined {
  const r = spawnSync(ETCD, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return /etcd Version: (\S+)/.exec(r.stdout)?.[1] ?? "unknown";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts etcd and waits until its gateway answers; undefined when etcd is not installed. */
export async function startEtcd(): Promise<Etcd | undefined> {
  const version = etcdVersion();
  if (version === undefined) return undefined;
  const dataDir = await mkdtemp(join(tmpdir(), "tug-bench-etcd-"));
  const client = await freePort();
  const peer = await freePort();
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const proc: ChildProcess = spawn(
    ETCD,
    [
      "--name", "bench",
      "--data-dir", dataDir,
      "--listen-client-urls", url,
      "--advertise-client-urls", url,
      "--listen-peer-urls", peerUrl,
      "--initial-advertise-peer-urls", peerUrl,
      "--initial-cluster", `bench=${peerUrl}`,
      "--log-level", "error",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const pid = proc.pid;
  if (pid === undefined) throw new Error("could not start etcd");
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      process.kill(pid, "SIGTERM");
      const t = setTimeout(() => process.kill(pid, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  const probe = new Pool(url, { connections: 1 });
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`etcd exited: ${stderr.slice(-500)}`);
      try {
        const r = await probe.request({ path: "/v3/kv/range", method: "POST", body: JSON.stringify({ key: "AA==" }) });
        await r.body.text();
        if (r.statusCode === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`etcd did not become ready: ${stderr.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await probe.close();
  }
  return {
    url,
    version,
    pid,
    stop,
    client(connections: number): EtcdClient {
      const pool = new Pool(url, { connections, pipelining: 1 });
      return {
        async put(key: string, value: Uint8Array): Promise<number> {
          const body = JSON.stringify({ key: Buffer.from(key).toString("base64"), value: Buffer.from(value).toString("base64") });
          const r = await pool.request({ path: "/v3/kv/put", method: "POST", body, headers: { "content-type": "application/json" } });
          const text = await r.body.text();
          if (r.statusCode !== 200) throw new Error(`etcd put: HTTP ${r.statusCode}: ${text}`);
          const rev = (JSON.parse(text) as { header?: { revision?: string } }).header?.revision;
          return Number(rev);
        },
        close: () => pool.close(),
      };
    },
    grpcClient: () => grpcClient(url),
  };
}

/** Protobuf length-delimited field (wire type 2) with a one-byte tag. */
function lenField(tag: number, bytes: Uint8Array): Buffer {
  const len: number[] = [];
  let n = bytes.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([(tag << 3) | 2, ...len]), bytes]);
}

/**
 * etcdserverpb.KV/Put over gRPC: PutRequest {1: key, 2: value}; the response status comes in the
 * trailers. The revision is not decoded (the bench only counts completions): returns 0.
 */
function grpcClient(url: string): EtcdClient {
  const session = connect(url);
  session.on("error", () => {});
  return {
    put(key: string, value: Uint8Array): Promise<number> {
      const msg = Buffer.concat([lenField(1, Buffer.from(key)), lenField(2, value)]);
      const frame = Buffer.alloc(5 + msg.length);
      frame.writeUInt32BE(msg.length, 1);
      msg.copy(frame, 5);
      return new Promise((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/etcdserverpb.KV/Put",
          "content-type": "application/grpc",
          te: "trailers",
        });
        let status: string | undefined;
        req.on("response", (h) => {
          if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
        });
        req.on("trailers", (t) => {
          status = String(t["grpc-status"]);
        });
        req.on("data", () => {});
        req.on("error", reject);
        req.on("close", () => (status === "0" ? resolve(0) : reject(new Error(`etcd gRPC put: grpc-status ${status ?? "missing"}`))));
        req.end(frame);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        session.close(() => resolve());
      }),
  };
}
