/**
 * HTTP/2 round-trip CPU: Tugboat's own core (src/h2) against node:http2, same shape, same run.
 * One process holds client and server on loopback; 1 KB request and response bodies; 128 streams
 * in flight; CPU = process.cpuUsage() per request (client + server together). Rounds alternate
 * between the two stacks (the machine is shared: ratios of medians, not single figures).
 *
 * Second table: the apiserver's two HTTP/2 server adapters (node-http2, tug-h2) behind the same
 * tug client and the same handler (reads the body, answers 201 with 1 KB): the client's cost is
 * the same on both, so the difference is the adapter's.
 *
 * `npm run bench -- h2 [--rounds 6] [--per-round 10000]`
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { startTugDriver, tugMicrobench } from "../src/h2/microbench.ts";
import { nodeHttp2Transport } from "../src/transport/node-http2/mod.ts";
import { tugH2Transport } from "../src/transport/tug-h2/mod.ts";
import type { HttpRequest, HttpResponse, Server, Transport } from "../src/transport/types.ts";

const BODY = Buffer.alloc(1000, 97);

/** node:http2 ↔ node:http2, the core API (no compat layer), one round per call. */
async function nodeRound(perRound: number, inflight: number): Promise<{ us: number; rps: number }> {
  const srv = http2.createServer();
  srv.on("stream", (s) => {
    s.on("data", () => undefined);
    s.on("end", () => {
      s.respond({ ":status": 201, "content-type": "application/vnd.kubernetes.protobuf", "content-length": BODY.length });
      s.end(BODY);
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const sess = http2.connect(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const r = sess.request({ ":method": "POST", ":path": "/api/v1/namespaces/x/pods", "content-type": "application/vnd.kubernetes.protobuf" });
    r.on("data", () => undefined);
    r.on("end", resolve);
    r.on("error", reject);
    r.end(BODY);
  });
  // warm the session, then measure
  for (let i = 0; i < 200; i++) await one();
  let left = perRound;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => { while (left-- > 0) await one(); }));
  const c = process.cpuUsage(c0);
  const dt = performance.now() - t0;
  sess.close();
  await new Promise<void>((r) => srv.close(() => r()));
  return { us: (c.user + c.system) / perRound, rps: (perRound / dt) * 1000 };
}

const RESPONSE: HttpResponse = { status: 201, headers: { "content-type": "application/vnd.kubernetes.protobuf" }, body: BODY };
async function adapterHandler(req: HttpRequest): Promise<HttpResponse> {
  await req.body(3 << 20);
  return RESPONSE;
}

/** A running adapter with one tug client connected to it. */
interface AdapterRig {
  readonly name: string;
  round(perRound: number): Promise<{ us: number; rps: number }>;
  close(): Promise<void>;
}

async function adapterRig(t: Transport): Promise<AdapterRig> {
  const server: Server = await t.listen(adapterHandler, { host: "127.0.0.1", port: 0 });
  const driver = await startTugDriver(server.port);
  await driver.round(2000, 128); // warm-up (JIT)
  return {
    name: t.name,
    async round(perRound) {
      const r = await driver.round(perRound, 128);
      if (r.completed !== perRound || r.resets !== 0 || r.bytes !== perRound * BODY.length) {
        throw new Error(`${t.name}: ${r.completed}/${perRound} completed, ${r.resets} resets, ${r.bytes} response bytes`);
      }
      return r;
    },
    async close() {
      driver.close();
      await server.close();
    },
  };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let rounds = 6;
  let perRound = 10_000;
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === "--rounds" && v > 0 && v <= 50) { rounds = v; i++; }
    else if (argv[i] === "--per-round" && v > 0 && v <= 200_000) { perRound = v; i++; }
    else throw new Error(`unknown or out-of-range argument ${argv[i]} (flags: --rounds 1..50 --per-round 1..200000)`);
  }
  const tug: number[] = [], tugRps: number[] = [], node: number[] = [], nodeRps: number[] = [];
  await tugMicrobench(1, 2000, 128); // warm-up (JIT)
  await nodeRound(2000, 128);
  for (let k = 0; k < rounds; k++) {
    const t = await tugMicrobench(1, perRound, 128);
    if (t.resets !== 0 || t.completed !== perRound) throw new Error(`tug round ${k}: ${t.completed}/${perRound} completed, ${t.resets} resets`);
    tug.push(t.usPerReq[0] ?? NaN);
    tugRps.push(t.reqPerSec[0] ?? NaN);
    const n = await nodeRound(perRound, 128);
    node.push(n.us);
    nodeRps.push(n.rps);
  }
  const ratio = median(node) / median(tug);
  console.log(`HTTP/2 round trip, 1 KB bodies both ways, 128 in flight, ${rounds} alternating rounds of ${perRound} (medians)`);
  console.log("| stack | CPU µs per request (client + server) | req/s | CPU vs node:http2 |");
  console.log("|---|---:|---:|---:|");
  console.log(`| node:http2 ↔ node:http2 | ${median(node).toFixed(1)} | ${median(nodeRps).toFixed(0)} | 1.00x |`);
  console.log(`| src/h2 ↔ src/h2 | ${median(tug).toFixed(1)} | ${median(tugRps).toFixed(0)} | ${(1 / ratio).toFixed(2)}x (${ratio.toFixed(1)}x cheaper) |`);
  // adapters: alternate rounds between the two, same client
  const rigs = [await adapterRig(nodeHttp2Transport), await adapterRig(tugH2Transport)];
  const adapterUs = rigs.map(() => [] as number[]);
  const adapterRps = rigs.map(() => [] as number[]);
  for (let k = 0; k < rounds; k++) {
    for (const [i, rig] of rigs.entries()) {
      const r = await rig.round(perRound);
      adapterUs[i]?.push(r.us);
      adapterRps[i]?.push(r.rps);
    }
  }
  for (const rig of rigs) await rig.close();
  const [nodeAd, tugAd] = [median(adapterUs[0] ?? []), median(adapterUs[1] ?? [])];
  console.log("");
  console.log(`apiserver adapters behind the same src/h2 client and handler (1 KB bodies, 128 in flight, ${rounds} alternating rounds of ${perRound}, medians)`);
  console.log("| adapter | CPU µs per request (client + adapter + handler) | req/s | CPU vs node-http2 |");
  console.log("|---|---:|---:|---:|");
  console.log(`| node-http2 | ${nodeAd.toFixed(1)} | ${median(adapterRps[0] ?? []).toFixed(0)} | 1.00x |`);
  console.log(`| tug-h2 | ${tugAd.toFixed(1)} | ${median(adapterRps[1] ?? []).toFixed(0)} | ${(tugAd / nodeAd).toFixed(2)}x (${(nodeAd / tugAd).toFixed(1)}x cheaper) |`);
  console.log(`RESULT adapter_node_us=${nodeAd.toFixed(1)} adapter_tug_us=${tugAd.toFixed(1)} adapter_cpu_ratio=${(tugAd / nodeAd).toFixed(3)} node_us_per_req=${median(node).toFixed(1)} tug_us_per_req=${median(tug).toFixed(1)} tug_cpu_ratio=${(1 / ratio).toFixed(3)} node_rps=${median(nodeRps).toFixed(0)} tug_rps=${median(tugRps).toFixed(0)}`);
}

await main();
