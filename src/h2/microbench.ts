/**
 * CPU microbench for the session: tug client ↔ tug server over loopback in one process, 1 KB
 * bodies, `inflight` concurrent requests, process.cpuUsage per request (client + server).
 * Importable (bench/h2.ts) and runnable: `npx tsx src/h2/microbench.ts`.
 */
import * as net from "node:net";
import { H2Session, type H2Stream, type HeaderList, type StreamEvents } from "./session.ts";

const BODY = Buffer.alloc(1000, 97);
const RESP_HEADERS: HeaderList = [":status", "201", "content-type", "application/vnd.kubernetes.protobuf", "content-length", "1000"];
const REQ_HEADERS: HeaderList = [":method", "POST", ":scheme", "http", ":authority", "127.0.0.1", ":path", "/api/v1/namespaces/x/pods", "content-type", "application/vnd.kubernetes.protobuf", "accept", "application/vnd.kubernetes.protobuf"];

class ServerStream implements StreamEvents {
  onHeaders(): void {}
  onData(s: H2Stream, _c: Uint8Array, end: boolean): void {
    if (end) {
      s.sendHeaders(RESP_HEADERS, false);
      s.write(BODY, true);
    }
  }
  onReset(): void {}
}
const SERVER_STREAM = new ServerStream();

class Driver implements StreamEvents {
  remaining = 0;
  done: () => void = () => undefined;
  constructor(readonly session: H2Session) {}
  start(): void {
    if (this.remaining <= 0) return;
    this.remaining--;
    const st = this.session.request(REQ_HEADERS, false, this);
    st.write(BODY, true);
  }
  completed = 0;
  bytes = 0;
  onHeaders(): void {}
  onData(_s: H2Stream, c: Uint8Array, end: boolean): void {
    this.bytes += c.length;
    if (end) {
      this.completed++;
      this.next();
    }
  }
  resets = 0;
  onReset(): void {
    this.resets++;
    this.next();
  }
  inflight = 0;
  private next(): void {
    this.inflight--;
    if (this.remaining > 0) {
      this.inflight++;
      this.start();
    } else if (this.inflight === 0) this.done();
  }
}

export interface MicrobenchResult {
  completed: number;
  resets: number;
  responseBytes: number;
  usPerReq: number[];
  reqPerSec: number[];
  medianUs: number;
}

/** One round's figures: CPU µs per request (whole process) and requests per second. */
export interface RoundResult {
  readonly us: number;
  readonly rps: number;
  readonly completed: number;
  readonly resets: number;
  /** Response body bytes received. */
  readonly bytes: number;
}

/** A tug client session on `port` that runs rounds of 1 KB POSTs (the server may be anything). */
export interface TugDriver {
  round(perRound: number, inflight: number): Promise<RoundResult>;
  close(): void;
}

export async function startTugDriver(port: number): Promise<TugDriver> {
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  sock.setNoDelay(true);
  const session = new H2Session(sock, { role: "client" });
  const driver = new Driver(session);
  return {
    async round(perRound, inflight) {
      const done0 = driver.completed;
      const resets0 = driver.resets;
      const bytes0 = driver.bytes;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        driver.remaining = perRound;
        driver.done = resolve;
        driver.inflight = 0;
        for (let i = 0; i < inflight; i++) {
          driver.inflight++;
          driver.start();
        }
      });
      const c = process.cpuUsage(c0);
      const dt = performance.now() - t0;
      return { us: (c.user + c.system) / perRound, rps: (perRound / dt) * 1000, completed: driver.completed - done0, resets: driver.resets - resets0, bytes: driver.bytes - bytes0 };
    },
    close: () => session.destroy(),
  };
}

/** Runs `rounds` rounds of `perRound` requests with `inflight` concurrency. */
export async function tugMicrobench(rounds = 6, perRound = 10000, inflight = 128): Promise<MicrobenchResult> {
  const srv = net.createServer((sock) => {
    sock.setNoDelay(true);
    new H2Session(sock, { role: "server", onStream: () => SERVER_STREAM });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const driver = await startTugDriver((srv.address() as net.AddressInfo).port);
  const usPerReq: number[] = [];
  const reqPerSec: number[] = [];
  let completed = 0;
  let resets = 0;
  let bytes = 0;
  for (let k = 0; k < rounds; k++) {
    const r = await driver.round(perRound, inflight);
    usPerReq.push(r.us);
    reqPerSec.push(r.rps);
    completed += r.completed;
    resets += r.resets;
    bytes += r.bytes;
  }
  driver.close();
  srv.close();
  const sorted = [...usPerReq].sort((a, b) => a - b);
  return { completed, resets, responseBytes: bytes, usPerReq, reqPerSec, medianUs: sorted[Math.floor(sorted.length / 2)] ?? 0 };
}

if (process.argv[1] !== undefined && process.argv[1].endsWith("microbench.ts")) {
  const r = await tugMicrobench();
  r.usPerReq.forEach((u, i) => console.log(`round ${i}: ${(r.reqPerSec[i] ?? 0).toFixed(0)} req/s, ${u.toFixed(1)} µs CPU/req (client+server)`));
  console.log(`completed ${r.completed}, resets ${r.resets}, response bytes ${r.responseBytes}`);
  console.log(`median ${r.medianUs.toFixed(1)} µs CPU/req`);
}
