/**
 * `tug server` / `tug up` as a process: the kubeconfig contract, the admin token, start-up
 * failures (one line on stderr, exit 1), signals, and the alternative transports.
 */
import { readdirSync, readFileSync, statSync, writeFileSync, openSync, fstatSync, readSync, writeSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { COMPONENTS } from "../../src/server/components.ts";
import { H2Client } from "./h2client.ts";
import { Kubectl, runTug, startTug, tempDir, tableRows, type TugProcess } from "./harness.ts";

let tug: TugProcess;
const extra: TugProcess[] = [];

beforeAll(async () => {
  const dir = tempDir("tokens");
  writeFileSync(join(dir, "extra.csv"), '# extra users\nbob-token,bob,1001,"dev,ops"\n');
  tug = await startTug({ args: ["--token-auth-file", join(dir, "extra.csv")] });
});

afterAll(async () => {
  await tug?.stop();
  for (const t of extra) await t.stop("SIGKILL");
});

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}

describe("tug server", () => {
  it("writes a 0600 kubeconfig with the tugboat context and prints the export line", () => {
    expect(statSync(tug.kubeconfig).mode & 0o777).toBe(0o600);
    const doc = parseYaml(readFileSync(tug.kubeconfig, "utf8")) as Record<string, unknown>;
    expect(doc["current-context"]).toBe("tugboat");
    expect(tug.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(tug.stdout()).toContain(`export KUBECONFIG=${tug.kubeconfig}\n`);
    expect(tug.stdout()).toMatch(/API serving at https:\/\/127\.0\.0\.1:\d+ \(transport tug-h2/);
    expect(tug.caPem).toContain("BEGIN CERTIFICATE");
    expect(readdirSync(tug.dataDir).sort()).toEqual(expect.arrayContaining(["kubeconfig", "pki", "store", "tokens.csv", "tug.lock"]));
    expect(statSync(join(tug.dataDir, "tokens.csv")).mode & 0o777).toBe(0o600);
  });

  it("accepts the admin token, tokens from --token-auth-file, and 401s the rest", async () => {
    // The admin line comes first; the controller manager's and scheduler's identities follow.
    const lines = readFileSync(join(tug.dataDir, "tokens.csv"), "utf8").trim().split("\n");
    expect(lines.map((l) => l.split(",")[1])).toEqual(["admin", "system:kube-controller-manager", "system:kube-scheduler"]);
    const line = lines[0] ?? "";
    const [token, user, , groups] = line.split(",");
    expect(user).toBe("admin");
    expect(groups).toBe('"system:masters"');
    const asAdmin = new H2Client(tug.url, { ca: tug.caPem, token: token ?? "" });
    const ok = await asAdmin.json("GET", "/api/v1/namespaces");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ kind: "NamespaceList" });
    asAdmin.close();

    const bob = new H2Client(tug.url, { ca: tug.caPem, token: "bob-token" });
    expect((await bob.json("GET", "/api/v1/namespaces")).status).not.toBe(401);
    bob.close();

    for (const auth of [{ ca: tug.caPem }, { ca: tug.caPem, token: "wrong" }]) {
      const anon = new H2Client(tug.url, auth);
      const r = await anon.json("GET", "/api/v1/namespaces");
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
      anon.close();
    }
  });

  it("kubectl works with the kubeconfig as written", async () => {
    const k = new Kubectl("1.32", tug.kubeconfig);
    const rows = tableRows(await k.ok(["get", "ns"]));
    expect(rows[0]).toEqual(["NAME", "STATUS", "AGE"]);
    expect(rows.map((r) => r[0])).toContain("default");
    k.cleanup();
  });

  it("refuses a data dir held by a running server", async () => {
    const r = await runTug(["server", "--data-dir", tug.dataDir, "--listen", "127.0.0.1:0", "--kubeconfig-out", join(tempDir("kc"), "kc")]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(`tug: data directory ${tug.dataDir} is in use by another tug process (pid ${tug.pid})`);
  });

  it("reports a port in use", async () => {
    const r = await runTug(["server", "--data-dir", tempDir("port"), "--listen", `127.0.0.1:${tug.port}`]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(`tug: cannot listen on 127.0.0.1:${tug.port}: address already in use`);
  });

  it.each([
    [["--listen", "nonsense"], 'tug: invalid --listen "nonsense": missing port (expected HOST:PORT)'],
    [["--listen", "127.0.0.1:99999"], 'tug: invalid --listen "127.0.0.1:99999": port must be at most 65535 (expected HOST:PORT)'],
    [["--listen", "127.0.0.1:0", "--disable", "apiserver"], 'tug: component "apiserver" is required and cannot be disabled'],
    [["--listen", "127.0.0.1:0", "--disable", "bogus"], `tug: unknown component "bogus" in --disable (known: ${COMPONENTS.map((c) => c.name).join(", ")})`],
    [["--listen", "127.0.0.1:0", "--transport", "deno"], "tug: transport \"deno\" needs the Deno runtime (use `deno task server …`)"],
  ])("rejects bad flags %j", async (args, message) => {
    const r = await runTug(["server", "--data-dir", tempDir("flags"), ...args]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(message);
  });

  it("rejects a missing mandatory flag and an unknown transport name via commander", async () => {
    const r = await runTug(["server", "--listen", "127.0.0.1:0"]);
    expect(r.exit.code).toBe(1);
    expect(r.stderr).toContain("error: required option '--data-dir <dir>' not specified");
    const t = await runTug(["server", "--data-dir", tempDir("t"), "--listen", "127.0.0.1:0", "--transport", "carrier-pigeon"]);
    expect(t.exit.code).toBe(1);
    expect(t.stderr).toContain("error: option '--transport <name>' argument 'carrier-pigeon' is invalid. Allowed choices are tug-h2, node-http2, uws, deno.");
  });

  it("reports a bad --token-auth-file", async () => {
    const dir = tempDir("badtok");
    writeFileSync(join(dir, "t.csv"), "justatoken\n");
    const r = await runTug(["server", "--data-dir", dir, "--listen", "127.0.0.1:0", "--token-auth-file", join(dir, "t.csv")]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^tug: tokens: .*t\.csv: token file line 1: expected at least 3 columns/);
  });

  it("refuses a corrupt store with one clear line", async () => {
    const first = await startTug();
    extra.push(first);
    const api = new H2Client(first.url, { ca: first.caPem, cert: first.certPem, key: first.keyPem });
    for (let i = 0; i < 20; i++) {
      expect((await api.json("POST", "/api/v1/namespaces", { metadata: { name: `ns-${i}` } })).status).toBe(201);
    }
    api.close();
    expect((await first.stop("SIGTERM")).code).toBe(0);
    // Flip bytes early in every store file, inside the records written above and before later
    // valid ones: that is mid-log damage, which must be refused. (Damage at the tail — or in the
    // zero-filled, preallocated rest of a WAL segment — is a torn write and legitimately dropped.)
    const storeDir = join(first.dataDir, "store");
    const files = readdirSync(storeDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const p = join(f.parentPath, f.name);
      const fd = openSync(p, "r+");
      const size = fstatSync(fd).size;
      if (size >= 16) {
        const at = Math.min(Math.floor(size / 3), 512);
        const buf = Buffer.alloc(8);
        readSync(fd, buf, 0, 8, at);
        for (let i = 0; i < 8; i++) buf[i] = (buf[i] ?? 0) ^ 0xa5;
        writeSync(fd, buf, 0, 8, at);
      }
      closeSync(fd);
    }
    const r = await runTug(["server", "--data-dir", first.dataDir, "--listen", "127.0.0.1:0"]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^tug: .*corrupt/i);
  });

  it("SIGINT stops cleanly", async () => {
    const t = await startTug();
    extra.push(t);
    expect(await t.stop("SIGINT")).toEqual({ code: 0, signal: null });
    expect(t.stderr()).toContain("SIGINT received, shutting down");
  });
});

describe("transports", () => {
  it("--insecure-plaintext serves h2c with token auth in the kubeconfig", async () => {
    const t = await startTug({ args: ["--insecure-plaintext"] });
    extra.push(t);
    expect(t.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = readFileSync(join(t.dataDir, "tokens.csv"), "utf8").split(",")[0] ?? "";
    const c = new H2Client(t.url, { token });
    expect((await c.request({ path: "/healthz" })).status).toBe(200);
    expect((await c.json("GET", "/api/v1/namespaces")).status).toBe(200);
    c.close();
    expect((await t.stop()).code).toBe(0);
  });

  it("--transport uws serves kubectl over HTTP/1.1", async () => {
    const t = await startTug({ args: ["--transport", "uws"] });
    extra.push(t);
    expect(t.stdout()).toContain("(transport uws");
    // uWS cannot see client certificates: the kubeconfig carries the admin token instead
    const token = readFileSync(join(t.dataDir, "tokens.csv"), "utf8").split(",")[0] ?? "";
    expect(readFileSync(t.kubeconfig, "utf8")).toContain(`token: ${token}`);
    const k = new Kubectl("1.32", t.kubeconfig);
    expect(await k.ok(["create", "namespace", "over-uws"])).toBe("namespace/over-uws created\n");
    expect(await k.ok(["get", "ns", "over-uws", "-o", "jsonpath={.status.phase}"])).toBe("Active");
    k.cleanup();
    expect((await t.stop()).code).toBe(0);
  });
});

describe("tug up", () => {
  it("lists its flags with the defaults", async () => {
    const r = await runTug(["up", "--help"]);
    expect(r.exit.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, " ");
    expect(help).toContain("--data-dir <dir>");
    expect(help).toContain('(default: ".tug")');
    expect(help).toContain('(default: "127.0.0.1:6443")');
    expect(help).toContain("--kubeconfig-out <file> where to write the admin kubeconfig once serving (default: <data-dir>/kubeconfig)");
    expect(help).toContain("--disable <component>");
  });

  it("fails cleanly when its default port is taken", async () => {
    // hold a port, then ask `up` for it
    const holder = createServer();
    await new Promise<void>((res) => holder.listen(0, "127.0.0.1", res));
    const addr = holder.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : 0;
    const r = await runTug(["up", "--data-dir", tempDir("up"), "--listen", `127.0.0.1:${port}`]);
    holder.close();
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(`tug: cannot listen on 127.0.0.1:${port}: address already in use`);
  });
});
