import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../../h2/frames.ts";
import { H2Session, type H2Stream, type HeaderList } from "../../h2/session.ts";
import { ensurePki, type Pki } from "../../pki/mod.ts";
import { runTransportConformance, startInProcess } from "../conformance.ts";
import { BodyTooLargeError, type HttpRequest, type HttpResponse, type Server } from "../types.ts";
import { capabilities, tugH2Transport } from "./mod.ts";

runTransportConformance("tug-h2", capabilities, startInProcess(tugH2Transport));

const run = promisify(execFile);

/** What a raw client stream saw. */
interface Outcome {
  status?: string;
  headers: HeaderList;
  body: string;
  reset?: number;
  ended: boolean;
}

/** Sends one request with Tugboat's own client session, which (unlike node:http2) sends any header list. */
function rawRequest(session: H2Session, list: HeaderList, body?: Uint8Array[], endAfterBody = true): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { headers: [], body: "", ended: false };
    const dec = new TextDecoder();
    const stream = session.request(list, body === undefined, {
      onHeaders(_s: H2Stream, h: HeaderList, end: boolean) {
        out.status = h[1] ?? "";
        out.headers = h;
        if (end) {
          out.ended = true;
          resolve(out);
        }
      },
      onData(_s: H2Stream, chunk: Uint8Array, end: boolean) {
        out.body += dec.decode(chunk, { stream: !end });
        if (end) {
          out.ended = true;
          resolve(out);
        }
      },
      onReset(_s: H2Stream, code: number) {
        out.reset = code;
        resolve(out);
      },
    });
    if (body !== undefined) {
      body.forEach((b, i) => stream.write(b, endAfterBody && i === body.length - 1));
    }
  });
}

function connect(port: number, onGoaway?: (last: number, code: number) => void): Promise<H2Session> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1", () => resolve(new H2Session(sock, { role: "client", ...(onGoaway ? { onGoaway } : {}) })));
    sock.once("error", reject);
  });
}

const get = (path: string, extra: string[] = []): HeaderList => [":method", "GET", ":scheme", "http", ":path", path, ":authority", "x", ...extra];
const post = (path: string, extra: string[] = []): HeaderList => [":method", "POST", ":scheme", "http", ":path", path, ":authority", "x", ...extra];

describe("tug-h2 adapter internals", () => {
  let server: Server;
  let session: H2Session;
  const bodies: string[] = [];
  const handler = async (req: HttpRequest): Promise<HttpResponse> => {
    switch (req.path) {
      case "/echo": {
        try {
          const b = await req.body(1 << 20);
          bodies.push(new TextDecoder().decode(b));
          return { status: 200, body: b };
        } catch (e) {
          bodies.push(e instanceof BodyTooLargeError ? "too-large" : `error: ${(e as Error).message}`);
          return { status: e instanceof BodyTooLargeError ? 413 : 400, body: "no" };
        }
      }
      case "/small-limit":
        try {
          await req.body(4);
          return { status: 200, body: "read" };
        } catch (e) {
          return { status: e instanceof BodyTooLargeError ? 413 : 500, body: "refused" };
        }
      case "/ignore-body":
        return { status: 200, body: "answered" };
      case "/bad-header":
        return { status: 200, headers: { "x-bad": "a\r\nInjected: yes" }, body: "never" };
      case "/bad-status":
        return { status: 1000, body: "never" };
      case "/throws":
        throw new Error("boom");
      default:
        return { status: 200, headers: { "x-path": req.path, "x-query": req.rawQuery, "x-host": req.headers["host"] ?? "" }, body: `hello ${req.httpVersion}` };
    }
  };

  beforeAll(async () => {
    server = await tugH2Transport.listen(handler, { host: "127.0.0.1", port: 0 });
    session = await connect(server.port);
  });
  afterAll(async () => {
    session?.destroy();
    await server?.close();
  });

  it("serves a request; :authority becomes host", async () => {
    const r = await rawRequest(session, get("/a%20b?x=1"));
    expect(r.status).toBe("200");
    expect(r.body).toBe("hello 2");
    const h = Object.fromEntries(r.headers.reduce<string[][]>((acc, v, i) => (i % 2 === 0 ? [...acc, [v, r.headers[i + 1] ?? ""]] : acc), []));
    expect(h).toMatchObject({ "x-path": "/a b", "x-query": "x=1", "x-host": "x", "content-length": "7" });
  });

  const malformed: Array<[string, HeaderList]> = [
    ["upper-case field name", get("/", ["X-Upper", "1"])],
    ["connection-specific field", get("/", ["connection", "keep-alive"])],
    ["missing :path", [":method", "GET", ":scheme", "http"]],
    ["pseudo-header after a regular field", [":method", "GET", "accept", "x", ":scheme", "http", ":path", "/"]],
    ["te: gzip", get("/", ["te", "gzip"])],
    ["unknown pseudo-header", get("/", [":protocol", "x"])],
  ];
  for (const [what, list] of malformed) {
    it(`malformed request (${what}): RST_STREAM PROTOCOL_ERROR, the connection keeps serving`, async () => {
      const r = await rawRequest(session, list);
      expect(r.reset).toBe(ErrorCode.PROTOCOL_ERROR);
      expect((await rawRequest(session, get("/ok"))).status).toBe("200");
    });
  }

  it("a :path that is not a valid target is a 400 Status", async () => {
    const r = await rawRequest(session, get("/%zz"));
    expect(r.status).toBe("400");
    expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", code: 400, reason: "BadRequest" });
    expect((await rawRequest(session, get("nopath"))).status).toBe("400");
  });

  it("bodies split over DATA frames arrive whole; held DATA (sent before body()) is not lost", async () => {
    const parts = ["abc", "defgh", "ij"].map((s) => new TextEncoder().encode(s));
    const r = await rawRequest(session, post("/echo", ["content-length", "10"]), parts);
    expect(r.status).toBe("200");
    expect(r.body).toBe("abcdefghij");
    // 600 KiB: more than the 256 KiB stream window, so the window must be returned as the body is read
    const big = new Uint8Array(600 << 10).fill(97);
    const r2 = await rawRequest(session, post("/echo"), [big]);
    expect(r2.status).toBe("200");
    expect(r2.body.length).toBe(600 << 10);
  });

  it("content-length that disagrees with the DATA: RST_STREAM PROTOCOL_ERROR, handler sees an error", async () => {
    bodies.length = 0;
    const short = await rawRequest(session, post("/echo", ["content-length", "10"]), [new TextEncoder().encode("abc")]);
    expect(short.reset).toBe(ErrorCode.PROTOCOL_ERROR);
    const long = await rawRequest(session, post("/echo", ["content-length", "2"]), [new TextEncoder().encode("abc")]);
    expect(long.reset).toBe(ErrorCode.PROTOCOL_ERROR);
    const none = await rawRequest(session, get("/echo", ["content-length", "5"]));
    expect(none.reset).toBe(ErrorCode.PROTOCOL_ERROR);
    expect((await rawRequest(session, get("/ok"))).status).toBe("200");
  });

  it("a body over the limit is refused (413) while the client is still sending; then RST_STREAM NO_ERROR", async () => {
    const first = new TextEncoder().encode("0123456789");
    // the upload stays open (no END_STREAM): the server answers, then resets with NO_ERROR
    const r = await rawRequest(session, post("/small-limit"), [first], false);
    expect(r.status).toBe("413");
    expect(r.body).toBe("refused");
    expect(r.ended).toBe(true);
    const declared = await rawRequest(session, post("/small-limit", ["content-length", "100"]), [new Uint8Array(10)], false);
    expect(declared.status).toBe("413");
  });

  it("an upload the handler never reads: the response arrives complete, then RST_STREAM NO_ERROR", async () => {
    const resets: number[] = [];
    const done = new Promise<Outcome>((resolve) => {
      const out: Outcome = { headers: [], body: "", ended: false };
      const s = session.request(post("/ignore-body"), false, {
        onHeaders(_s, h) {
          out.status = h[1] ?? "";
        },
        onData(_s, c, end) {
          out.body += new TextDecoder().decode(c);
          if (end) out.ended = true;
        },
        onReset(_s, code) {
          resets.push(code);
          resolve(out);
        },
      });
      s.write(new Uint8Array(1000), false);
    });
    const out = await done;
    expect(out).toMatchObject({ status: "200", body: "answered", ended: true });
    expect(resets).toEqual([ErrorCode.NO_ERROR]);
  });

  it("an invalid response head from the handler becomes a 500 Status; a throwing handler too", async () => {
    for (const path of ["/bad-header", "/bad-status", "/throws"]) {
      const r = await rawRequest(session, get(path));
      expect(r.status).toBe("500");
      expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", code: 500 });
    }
  });

  it("close() sends GOAWAY and resolves", async () => {
    const srv = await tugH2Transport.listen(handler, { host: "127.0.0.1", port: 0 });
    let goaway = -1;
    let gotGoaway!: () => void;
    const closed = new Promise<void>((resolve) => (gotGoaway = resolve));
    const s = await connect(srv.port, (_last, code) => {
      goaway = code;
      gotGoaway();
    });
    expect((await rawRequest(s, get("/x"))).status).toBe("200");
    await srv.close();
    await closed;
    expect(goaway).toBe(ErrorCode.NO_ERROR);
    s.destroy();
  });
});

async function have(cmd: string): Promise<boolean> {
  try {
    await run("sh", ["-c", `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

describe("tug-h2 interop with curl and nghttp (nghttp2's client)", async () => {
  const tools = { curl: await have("curl"), nghttp: await have("nghttp") };
  let dir = "";
  let pki: Pki;
  let plain: Server;
  let secure: Server;
  const handler = async (req: HttpRequest): Promise<HttpResponse> => {
    const body = req.method === "POST" ? new TextDecoder().decode(await req.body(1 << 20)) : "";
    return { status: 200, headers: { "content-type": "text/plain" }, body: `${req.method} ${req.path} v${req.httpVersion} ${body.length} ${req.peerCertificate?.commonName ?? "-"}` };
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tug-h2-interop-"));
    pki = await ensurePki(dir, { hosts: [] });
    writeFileSync(join(dir, "ca.crt"), pki.caCert);
    plain = await tugH2Transport.listen(handler, { host: "127.0.0.1", port: 0 });
    secure = await tugH2Transport.listen(handler, { host: "127.0.0.1", port: 0, tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } });
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), secure?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!tools.curl)("curl: h2c prior knowledge, h2 over TLS (ALPN), HTTP/1.1, a 1 MiB upload", async () => {
    const h2c = await run("curl", ["-sS", "--http2-prior-knowledge", `http://127.0.0.1:${plain.port}/a`]);
    expect(h2c.stdout).toBe("GET /a v2 0 -");
    const tlsH2 = await run("curl", ["-sS", "--http2", "--cacert", join(dir, "ca.crt"), `https://localhost:${secure.port}/b`, "--resolve", `localhost:${secure.port}:127.0.0.1`]);
    expect(tlsH2.stdout).toBe("GET /b v2 0 -");
    const h1 = await run("curl", ["-sS", "--http1.1", "--cacert", join(dir, "ca.crt"), `https://localhost:${secure.port}/c`, "--resolve", `localhost:${secure.port}:127.0.0.1`]);
    expect(h1.stdout).toBe("GET /c v1.1 0 -");
    writeFileSync(join(dir, "upload"), new Uint8Array(1 << 20).fill(65));
    const up = await run("curl", ["-sS", "--http2-prior-knowledge", "--data-binary", `@${join(dir, "upload")}`, `http://127.0.0.1:${plain.port}/u`]);
    expect(up.stdout).toBe(`POST /u v2 ${1 << 20} -`);
  });

  it.skipIf(!tools.nghttp)("nghttp: 20 concurrent streams on one connection, with its strict frame checks", async () => {
    const urls = Array.from({ length: 20 }, (_, i) => `http://127.0.0.1:${plain.port}/n${i}`);
    const out = await run("nghttp", ["-n", "--stat", ...urls]);
    expect(out.stdout).toMatch(/\/n19/);
    const body = await run("nghttp", [`http://127.0.0.1:${plain.port}/one`]);
    expect(body.stdout).toBe("GET /one v2 0 -");
  });
});
