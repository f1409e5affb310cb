import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:http2";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMemoryStore } from "../store/memory.ts";
import type { Store } from "../store/types.ts";
import { StoreError } from "../store/types.ts";
import type { Handler } from "../transport/types.ts";
import { StartError, startControlPlane, type ControlPlaneDeps } from "./control-plane.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "tug-cp-"));

/** A fake apiserver that records its lifecycle; the store is the in-memory one. */
function fakeDeps(log: string[], opts: { storeError?: Error } = {}): ControlPlaneDeps {
  return {
    openStore: async () => {
      if (opts.storeError) throw opts.storeError;
      const s: Store = createMemoryStore();
      const close = s.close.bind(s);
      return Object.assign(s, { close: async () => { log.push("store.close"); await close(); } });
    },
    createApiServer: ({ tokens }) => {
      const handler: Handler = async (req) => ({
        status: 200,
        headers: { "content-type": "text/plain" },
        body: `${req.path} tokens=${tokens.size} cert=${req.peerCertificate?.commonName ?? "-"}`,
      });
      return {
        handler,
        start: async () => { log.push("api.start"); },
        stop: async () => { log.push("api.stop"); },
      };
    },
  };
}

function get(url: string, ca: string, cert: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(url, { ca, cert, key });
    s.on("error", reject);
    const r = s.request({ ":path": "/x" });
    let body = "";
    r.on("data", (d: Buffer) => { body += d.toString(); });
    r.on("end", () => { s.close(); resolve(body); });
    r.on("error", reject);
  });
}

describe("startControlPlane", () => {
  it("serves over TLS with the admin cert, writes the kubeconfig after listening, stops in order", async () => {
    const dir = tmp();
    const log: string[] = [];
    const kc = join(dir, "out/kubeconfig");
    const cp = await startControlPlane({ dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: kc }, fakeDeps(log));
    expect(cp.url).toBe(`https://127.0.0.1:${cp.port}`);
    expect(statSync(kc).mode & 0o777).toBe(0o600);
    const doc = parse(readFileSync(kc, "utf8")) as { clusters: Array<{ cluster: Record<string, string> }>; users: Array<{ user: Record<string, string> }> };
    const b = (v: string | undefined): string => Buffer.from(v ?? "", "base64").toString();
    const cluster = doc.clusters[0]?.cluster ?? {};
    const user = doc.users[0]?.user ?? {};
    expect(cluster["server"]).toBe(cp.url);
    expect(b(cluster["certificate-authority-data"])).toBe(cp.caPem);
    const body = await get(cp.url, cp.caPem, b(user["client-certificate-data"]), b(user["client-key-data"]));
    // admin + the controller manager and scheduler identities
    expect(body).toBe("/x tokens=3 cert=admin");
    expect(readFileSync(join(dir, "tokens.csv"), "utf8")).toContain(`${cp.adminToken},admin,admin,"system:masters"`);
    await cp.stop();
    await cp.stop(); // idempotent
    expect(log).toEqual(["api.start", "api.stop", "store.close"]);
    expect(existsSync(join(dir, "tug.lock"))).toBe(false);
  });

  it("fails with StartError and undoes everything when the port is taken", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const addr = holder.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : 0;
    const dir = tmp();
    const log: string[] = [];
    const kc = join(dir, "kubeconfig");
    await expect(startControlPlane({ dataDir: dir, listen: { host: "127.0.0.1", port }, kubeconfigOut: kc }, fakeDeps(log)))
      .rejects.toThrow(new StartError(`cannot listen on 127.0.0.1:${port}: address already in use`));
    holder.close();
    expect(log).toEqual(["store.close"]);
    expect(existsSync(kc)).toBe(false);
    expect(existsSync(join(dir, "tug.lock"))).toBe(false);
  });

  it("names a corrupt store and refuses a second instance on the same dir", async () => {
    const dir = tmp();
    const corrupt = new StoreError("Corrupt", "wal record 7: checksum mismatch");
    await expect(startControlPlane({ dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "k") }, fakeDeps([], { storeError: corrupt })))
      .rejects.toThrow(`store ${join(dir, "store")} is corrupt and was not opened: wal record 7: checksum mismatch`);
    const cp = await startControlPlane({ dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "k") }, fakeDeps([]));
    // the same process: our own pid counts as stale, so simulate another holder by reading the lock
    expect(readFileSync(join(dir, "tug.lock"), "utf8")).toBe(`${process.pid}\n`);
    await cp.stop();
  });

  it("plaintext mode writes a token kubeconfig", async () => {
    const dir = tmp();
    const cp = await startControlPlane({ dataDir: dir, listen: { host: "127.0.0.1", port: 0 }, kubeconfigOut: join(dir, "k"), insecurePlaintext: true }, fakeDeps([]));
    expect(cp.url).toMatch(/^http:\/\//);
    const doc = parse(readFileSync(join(dir, "k"), "utf8")) as { users: Array<{ user: Record<string, string> }> };
    expect(doc.users[0]?.user).toEqual({ token: cp.adminToken });
    await cp.stop();
  });
});
