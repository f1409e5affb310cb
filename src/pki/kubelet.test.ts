import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureKubeletClientCert, ensureKubeletServingCert, ensurePki, issueServingCert, loadCertificateAuthority, readKubeletServingCert } from "./mod.ts";
import { kubeletCredentialsFromPkiDir } from "../kubelet/streaming/server.ts";

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "tug-pki-kubelet-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("kubelet streaming certificates", () => {
  it("keeps a loopback kubelet-serving pair in the PKI dir that agents read without issuing", async () => {
    const dir = tempDir();
    const pki = await ensurePki(dir, { hosts: [] });
    expect(await readKubeletServingCert(dir)).toBeUndefined(); // not written yet
    const s = await ensureKubeletServingCert(pki);
    const cert = new X509Certificate(s.cert);
    expect(cert.subject).toBe("CN=tug-kubelet");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(cert.subjectAltName).toBe("IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost");
    expect(statSync(join(dir, "kubelet-serving.key")).mode & 0o777).toBe(0o600);
    expect(await ensureKubeletServingCert(pki)).toEqual(s); // reused
    expect(await readKubeletServingCert(dir)).toEqual({ ...s, caCert: pki.caCert });
    expect(await kubeletCredentialsFromPkiDir(dir)).toEqual({ clientCa: pki.caCert, cert: s.cert, key: s.key });
  });

  it("ignores a kubelet-serving pair another CA signed, and issues from the CA instead", async () => {
    const a = tempDir(), b = tempDir();
    await ensureKubeletServingCert(await ensurePki(a, { hosts: [] }));
    const pkiB = await ensurePki(b, { hosts: [] });
    for (const f of ["kubelet-serving.crt", "kubelet-serving.key"]) copyFileSync(join(a, f), join(b, f));
    expect(await readKubeletServingCert(b)).toBeUndefined();
    const creds = await kubeletCredentialsFromPkiDir(b);
    expect(new X509Certificate(creds.cert).checkIssued(new X509Certificate(pkiB.caCert))).toBe(true);
    // ensure re-issues it for the current CA
    const fixed = await ensureKubeletServingCert(pkiB);
    expect(new X509Certificate(fixed.cert).checkIssued(new X509Certificate(pkiB.caCert))).toBe(true);
  });

  it("issues the apiserver's kubelet-client cert once, in the PKI dir, and reuses it", async () => {
    const dir = tempDir();
    const pki = await ensurePki(dir, { hosts: [] });
    const a = await ensureKubeletClientCert(pki);
    const cert = new X509Certificate(a.cert);
    expect(cert.subject.split("\n").sort()).toEqual(["CN=kube-apiserver-kubelet-client", "O=system:masters"]);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(cert.verify(new X509Certificate(pki.caCert).publicKey)).toBe(true);
    expect(statSync(join(dir, "apiserver-kubelet-client.key")).mode & 0o777).toBe(0o600);
    expect(await ensureKubeletClientCert(pki)).toEqual(a);
  });

  it("issues serving certs for loopback from a CA loaded from the PKI dir", async () => {
    const dir = tempDir();
    const pki = await ensurePki(dir, { hosts: [] });
    const ca = await loadCertificateAuthority(dir);
    expect(ca.caCert).toBe(pki.caCert);
    const s = await issueServingCert(ca, "tug-kubelet");
    const cert = new X509Certificate(s.cert);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(cert.subjectAltName).toBe("IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost");
    expect(cert.checkIssued(new X509Certificate(pki.caCert))).toBe(true);
  });

  it("rejects bad input with clear errors", async () => {
    await expect(loadCertificateAuthority(join(tempDir(), "nope"))).rejects.toThrow(/no cluster CA in .*nope \(expected ca.crt and ca.key/);
    const ca = await ensurePki(tempDir(), { hosts: [] });
    await expect(issueServingCert(ca, "")).rejects.toThrow("the common name must not be empty");
    await expect(issueServingCert(ca, "x", ["not a host!"])).rejects.toThrow('"not a host!" is neither an IP address nor a DNS name');
  });
});
