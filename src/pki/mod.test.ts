import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { ensurePki, issueClientCert, servingHosts } from "./mod.ts";

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "tug-pki-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("ensurePki", () => {
  it("creates CA, serving and admin certificates with the right usages and file modes", async () => {
    const dir = tempDir();
    const pki = await ensurePki(dir, { hosts: ["10.1.2.3", "tug.example"] });
    const ca = new X509Certificate(pki.caCert);
    const server = new X509Certificate(pki.serverCert);
    const admin = new X509Certificate(pki.adminCert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(admin.verify(ca.publicKey)).toBe(true);
    expect(server.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // serverAuth
    expect(admin.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]); // clientAuth
    expect(server.subjectAltName).toBe("IP Address:10.1.2.3, DNS:tug.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost");
    expect(admin.subject.split("\n").sort()).toEqual(["CN=admin", "O=system:masters"]);
    expect(ca.checkIssued(ca)).toBe(true);
    for (const f of ["ca.key", "server.key", "admin.key"]) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    for (const f of ["ca.crt", "server.crt", "admin.crt"]) expect(readFileSync(join(dir, f), "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("reuses everything on a later start, and re-issues only the serving cert when the SANs change", async () => {
    const dir = tempDir();
    const first = await ensurePki(dir, { hosts: ["node-a"] });
    const again = await ensurePki(dir, { hosts: ["NODE-A", "127.0.0.1"] }); // same set after normalisation
    expect(again).toEqual(first);
    const changed = await ensurePki(dir, { hosts: ["node-b"] });
    expect(changed.caCert).toBe(first.caCert);
    expect(changed.adminCert).toBe(first.adminCert);
    expect(changed.serverCert).not.toBe(first.serverCert);
    expect(new X509Certificate(changed.serverCert).subjectAltName).toContain("DNS:node-b");
  });

  it("re-issues leaves that the current CA did not sign", async () => {
    const dir = tempDir();
    const first = await ensurePki(dir, { hosts: [] });
    const other = await ensurePki(tempDir(), { hosts: [] });
    writeFileSync(join(dir, "admin.crt"), other.adminCert);
    writeFileSync(join(dir, "admin.key"), other.adminKey);
    const fixed = await ensurePki(dir, { hosts: [] });
    expect(fixed.adminCert).not.toBe(other.adminCert);
    expect(new X509Certificate(fixed.adminCert).verify(new X509Certificate(first.caCert).publicKey)).toBe(true);
  });

  it("rejects hosts that are neither IPs nor DNS names", async () => {
    await expect(ensurePki(tempDir(), { hosts: ["bad host"] })).rejects.toThrow(/"bad host" is neither an IP address nor a DNS name/);
    expect(() => servingHosts(["a..b"])).toThrow(TypeError);
    expect(() => servingHosts(["1:2:3:zz::"])).toThrow(TypeError);
    expect(servingHosts(["::0001", "Example.COM"])).toEqual(["::1", "example.com", "127.0.0.1", "localhost"]);
  });

  it("issueClientCert signs CN/O with clientAuth; an empty CN is refused", async () => {
    const pki = await ensurePki(tempDir(), { hosts: [] });
    const c = await issueClientCert(pki, "system:node:n1", ["system:nodes", "team a"]);
    const x = new X509Certificate(c.cert);
    expect(x.subject.split("\n").sort()).toEqual(["CN=system:node:n1", "O=system:nodes", "O=team a"]);
    expect(x.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(x.verify(new X509Certificate(pki.caCert).publicKey)).toBe(true);
    await expect(issueClientCert(pki, "")).rejects.toThrow(/common name must not be empty/);
  });
});

/** The newest versioned kubectl beside the dispatcher (the dispatcher itself probes /version first). */
function findKubectl(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    const k = join(dir, "kubectl");
    if (!existsSync(k)) continue;
    const real = realpathSync(k);
    for (const v of ["1.33", "1.32", "1.31", "1.30"]) {
      const p = join(dirname(real), `kubectl.${v}`);
      if (existsSync(p)) return p;
    }
    return k;
  }
  return undefined;
}

const kubectl = findKubectl();

describe("Go TLS clients accept the certificates", () => {
  it.skipIf(!kubectl)("kubectl get --raw / over TLS with the admin client certificate", async () => {
    const dir = tempDir();
    const pki = await ensurePki(dir, { hosts: [] });
    const seen: { authorized: boolean; subject: unknown; alpn: string | false | null }[] = [];
    const server = https.createServer(
      { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const sock = req.socket as TLSSocket;
        seen.push({ authorized: sock.authorized, subject: sock.getPeerCertificate().subject, alpn: sock.alpnProtocol });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ paths: ["/api"] }));
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const b64 = (s: string): string => Buffer.from(s).toString("base64");
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: tug
  cluster: { server: "https://127.0.0.1:${port}", certificate-authority-data: ${b64(pki.caCert)} }
users:
- name: admin
  user: { client-certificate-data: ${b64(pki.adminCert)}, client-key-data: ${b64(pki.adminKey)} }
contexts:
- name: tug
  context: { cluster: tug, user: admin }
current-context: tug
`,
    );
    try {
      const out = await new Promise<string>((resolve, reject) => {
        execFile(kubectl as string, ["--kubeconfig", kubeconfig, "get", "--raw", "/"], { timeout: 20_000, env: { ...process.env, HOME: dir } }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        );
      });
      expect(JSON.parse(out)).toEqual({ paths: ["/api"] });
      const last = seen[seen.length - 1];
      expect(last?.authorized).toBe(true);
      expect(last?.subject).toMatchObject({ CN: "admin", O: "system:masters" });
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
