/**
 * TLS material for the control plane: a cluster CA, a serving certificate and client
 * certificates, all ECDSA P-256 signed with SHA-256 (fast to generate; accepted by Go's crypto/tls,
 * so kubectl and client-go take them).
 *
 * Uses @peculiar/x509 over WebCrypto (`globalThis.crypto`), so it runs on Node 20 and Deno.
 *
 * Layout of `dir` (keys are PKCS#8 PEM, mode 0600; certificates are mode 0644):
 *   ca.crt / ca.key           self-signed CA (basicConstraints CA:true, keyCertSign|cRLSign)
 *   server.crt / server.key   serving cert (serverAuth) with SANs: the requested hosts plus
 *                             127.0.0.1, ::1 and localhost
 *   admin.crt / admin.key     client cert CN=admin, O=system:masters (clientAuth)
 */
import "./_reflect.ts"; // must precede @peculiar/x509 (tsyringe checks Reflect at load)
import type * as X509 from "@peculiar/x509";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { webcrypto } from "node:crypto";

// WebCrypto types without the DOM lib (type-only: nothing from node:crypto is loaded).
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

let loaded: Promise<typeof X509> | undefined;
/**
 * @peculiar/x509, loaded on first use: processes that only read certificates already issued (node
 * agents with the control plane's `kubelet-serving` pair) never load it (~5 MB of RSS).
 */
function lib(): Promise<typeof X509> {
  return (loaded ??= import("@peculiar/x509").then((m) => {
    m.cryptoProvider.set(globalThis.crypto);
    return m;
  }));
}

/** PEM strings of the cluster's TLS material. */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
}

/** A PEM certificate with its PKCS#8 PEM private key. */
export interface IssuedCertificate {
  readonly cert: string;
  readonly key: string;
}

export interface EnsurePkiOptions {
  /** IP addresses and DNS names the serving certificate must cover (besides the loopback defaults). */
  readonly hosts: readonly string[];
}

/** Hosts every serving certificate carries. */
export const DEFAULT_SERVING_HOSTS: readonly string[] = ["127.0.0.1", "::1", "localhost"];

const ALG: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGN: webcrypto.EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const LEAF_DAYS = 365;
/** A leaf that expires within this window is re-issued at start. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

/**
 * Loads the TLS material in `dir`, creating what is missing. The CA is created once and reused;
 * the serving certificate is re-issued when its SAN set differs from `hosts` (plus the defaults),
 * when it is close to expiry, or when it was not signed by the current CA; the admin certificate is
 * re-issued when missing, expiring or not signed by the current CA.
 *
 * Throws `TypeError` for a host that is neither an IP address nor a DNS name, and the underlying
 * error when `dir` is not writable or holds unreadable PEM.
 */
export async function ensurePki(dir: string, opts: EnsurePkiOptions): Promise<Pki> {
  const x509 = await lib();
  const hosts = servingHosts(opts.hosts);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  let ca = await loadPair(dir, "ca");
  if (!ca) {
    ca = await createCa("tugboat-ca");
    await savePair(dir, "ca", ca);
  }
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);

  let server = await loadPair(dir, "server");
  if (!server || !(await leafUsable(server.cert, caCert)) || !sameSet(await sanOf(server.cert), hosts)) {
    server = await issue(caCert, caKey, { cn: "tugboat-apiserver", orgs: [], usage: "server", hosts });
    await savePair(dir, "server", server);
  }

  let admin = await loadPair(dir, "admin");
  if (!admin || !(await leafUsable(admin.cert, caCert))) {
    admin = await issue(caCert, caKey, { cn: "admin", orgs: ["system:masters"], usage: "client", hosts: [] });
    await savePair(dir, "admin", admin);
  }

  return {
    dir,
    caCert: ca.cert,
    caKey: ca.key,
    serverCert: server.cert,
    serverKey: server.key,
    adminCert: admin.cert,
    adminKey: admin.key,
  };
}

/**
 * Issues a client certificate (clientAuth) signed by the cluster CA. Kubernetes reads the
 * subject CN as the user name and each O as a group. Nothing is written to disk.
 * Throws `TypeError` for an empty `cn`.
 */
export async function issueClientCert(pki: Pki, cn: string, orgs: readonly string[] = []): Promise<IssuedCertificate> {
  const x509 = await lib();
  if (cn.length === 0) throw new TypeError("issueClientCert: the common name must not be empty");
  const caCert = new x509.X509Certificate(pki.caCert);
  const caKey = await importKey(pki.caKey);
  return issue(caCert, caKey, { cn, orgs, usage: "client", hosts: [] });
}

/** The de-duplicated SAN host list for a serving certificate; validates each entry. */
export function servingHosts(requested: readonly string[]): string[] {
  const out = new Set<string>();
  for (const h of [...requested, ...DEFAULT_SERVING_HOSTS]) {
    const host = h.trim().toLowerCase();
    if (sanType(host) === undefined) throw new TypeError(`pki: "${h}" is neither an IP address nor a DNS name`);
    out.add(normalizeIp(host));
  }
  return [...out];
}

// ---- internals ----

interface LeafSpec {
  cn: string;
  orgs: readonly string[];
  usage: "server" | "client";
  hosts: readonly string[];
}

async function createCa(cn: string): Promise<IssuedCertificate> {
  const x509 = await lib();
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: dn(cn, []),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_DAYS * DAY_MS),
    signingAlgorithm: SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await exportKey(keys.privateKey) };
}

async function issue(caCert: X509.X509Certificate, caKey: CryptoKey, spec: LeafSpec): Promise<IssuedCertificate> {
  const x509 = await lib();
  const keys = await generateKeys();
  const now = Date.now();
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(
      [spec.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (spec.hosts.length > 0) {
    const names: X509.JsonGeneralName[] = spec.hosts.map((h) => ({ type: sanType(h) ?? "dns", value: h }));
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: dn(spec.cn, spec.orgs),
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + LEAF_DAYS * DAY_MS),
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { cert: cert.toString("pem"), key: await exportKey(keys.privateKey) };
}

/** A subject as a JSON name, so values with `,` `=` or `:` need no escaping. */
function dn(cn: string, orgs: readonly string[]): X509.JsonName {
  const name: X509.JsonName = [];
  for (const o of orgs) name.push({ O: [o] });
  name.push({ CN: [cn] });
  return name;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return globalThis.crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
}

async function exportKey(key: CryptoKey): Promise<string> {
  const x509 = await lib();
  const der = await globalThis.crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function importKey(pem: string): Promise<CryptoKey> {
  const x509 = await lib();
  const [der] = x509.PemConverter.decode(pem);
  if (!der) throw new Error("pki: no PEM block in private key");
  return globalThis.crypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]);
}

function randomSerial(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  bytes[0] = bytes[0] | 0x01; // no leading zero octet
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function leafUsable(pem: string, ca: X509.X509Certificate): Promise<boolean> {
  const x509 = await lib();
  const cert = new x509.X509Certificate(pem);
  if (cert.notAfter.getTime() - Date.now() < RENEW_BEFORE_MS) return false;
  if (cert.issuer !== ca.subject) return false;
  return cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
}

async function sanOf(pem: string): Promise<string[]> {
  const x509 = await lib();
  const cert = new x509.X509Certificate(pem);
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return ext.names.toJSON().map((n) => (n.type === "ip" ? normalizeIp(n.value) : n.value.toLowerCase()));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size !== sb.size) return false;
  for (const x of sa) if (!sb.has(x)) return false;
  return true;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function sanType(host: string): "ip" | "dns" | undefined {
  if (IPV4.test(host)) return "ip";
  if (host.includes(":")) return isIpv6(host) ? "ip" : undefined;
  if (host.length <= 253 && DNS_NAME.test(host)) return "dns";
  return undefined;
}

function isIpv6(host: string): boolean {
  if (!/^[0-9a-f:.]+$/.test(host)) return false;
  try {
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** Canonical text of an IP (IPv6 compressed, lower-case) so SAN comparison is stable. */
function normalizeIp(host: string): string {
  if (!host.includes(":") || !isIpv6(host)) return host;
  return new URL(`http://[${host}]/`).hostname.slice(1, -1);
}

async function loadPair(dir: string, name: string): Promise<IssuedCertificate | undefined> {
  try {
    const [cert, key] = await Promise.all([
      readFile(join(dir, `${name}.crt`), "utf8"),
      readFile(join(dir, `${name}.key`), "utf8"),
    ]);
    return { cert, key };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function savePair(dir: string, name: string, pair: IssuedCertificate): Promise<void> {
  const keyPath = join(dir, `${name}.key`);
  await writeFile(keyPath, pair.key, { mode: 0o600 });
  await chmod(keyPath, 0o600); // the mode option does not apply to an existing file
  await writeFile(join(dir, `${name}.crt`), pair.cert, { mode: 0o644 });
}

function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === "ENOENT";
}

// ---- node agent (kubelet) streaming endpoint ----

/** Subject of the client certificate the apiserver presents to node agents (as kube-apiserver does). */
export const KUBELET_CLIENT_CN = "kube-apiserver-kubelet-client";
export const KUBELET_CLIENT_ORGS: readonly string[] = ["system:masters"];

/** The CA half of the PKI: enough to issue leaves. */
export type CertificateAuthority = Pick<Pki, "caCert" | "caKey">;

/**
 * Loads `apiserver-kubelet-client.crt/.key` from `pki.dir`, issuing them (CN
 * `kube-apiserver-kubelet-client`, O `system:masters`, clientAuth) when missing, expiring or not
 * signed by the current CA. The apiserver presents it when it proxies logs/exec/attach/port-forward
 * to a node agent's streaming endpoint.
 */
export async function ensureKubeletClientCert(pki: Pki): Promise<IssuedCertificate> {
  const x509 = await lib();
  const caCert = new x509.X509Certificate(pki.caCert);
  let pair = await loadPair(pki.dir, "apiserver-kubelet-client");
  if (!pair || !(await leafUsable(pair.cert, caCert))) {
    pair = await issue(caCert, await importKey(pki.caKey), { cn: KUBELET_CLIENT_CN, orgs: KUBELET_CLIENT_ORGS, usage: "client", hosts: [] });
    await savePair(pki.dir, "apiserver-kubelet-client", pair);
  }
  return pair;
}

/** File stem of the loopback serving pair node agents' streaming endpoints present. */
export const KUBELET_SERVING = "kubelet-serving";
export const KUBELET_SERVING_CN = "tug-kubelet";

/**
 * Loads `kubelet-serving.crt/.key` from `pki.dir`, issuing them (CN `tug-kubelet`, serverAuth,
 * loopback SANs) when missing, expiring or not signed by the current CA. The control plane writes
 * them at start so node agents reading this directory need not issue their own (see
 * `readKubeletServingCert`).
 */
export async function ensureKubeletServingCert(pki: Pki): Promise<IssuedCertificate> {
  const x509 = await lib();
  const caCert = new x509.X509Certificate(pki.caCert);
  let pair = await loadPair(pki.dir, KUBELET_SERVING);
  if (!pair || !(await leafUsable(pair.cert, caCert))) {
    pair = await issue(caCert, await importKey(pki.caKey), { cn: KUBELET_SERVING_CN, orgs: [], usage: "server", hosts: servingHosts([]) });
    await savePair(pki.dir, KUBELET_SERVING, pair);
  }
  return pair;
}

/**
 * The `kubelet-serving` pair of `dir` with the CA certificate, checked with node:crypto only
 * (signed by `ca.crt`, not inside the 30-day renewal window); undefined when absent or unusable, so the caller
 * issues one instead. Never loads @peculiar/x509.
 */
export async function readKubeletServingCert(dir: string): Promise<(IssuedCertificate & { readonly caCert: string }) | undefined> {
  const pair = await loadPair(dir, KUBELET_SERVING);
  if (!pair) return undefined;
  let caCert: string;
  try {
    caCert = await readFile(join(dir, "ca.crt"), "utf8");
    const { X509Certificate } = await import("node:crypto");
    const leaf = new X509Certificate(pair.cert);
    const ca = new X509Certificate(caCert);
    if (Date.parse(leaf.validTo) - Date.now() < RENEW_BEFORE_MS) return undefined;
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return undefined;
  } catch {
    return undefined;
  }
  return { ...pair, caCert };
}

/**
 * Issues a serving certificate (serverAuth) signed by `ca` for `hosts` plus the loopback defaults
 * (127.0.0.1, ::1, localhost). Nothing is written to disk: node agents issue theirs at start.
 * Throws `TypeError` for an empty `cn` or a host that is neither an IP address nor a DNS name.
 */
export async function issueServingCert(ca: CertificateAuthority, cn: string, hosts: readonly string[] = []): Promise<IssuedCertificate> {
  const x509 = await lib();
  if (cn.length === 0) throw new TypeError("issueServingCert: the common name must not be empty");
  const caCert = new x509.X509Certificate(ca.caCert);
  return issue(caCert, await importKey(ca.caKey), { cn, orgs: [], usage: "server", hosts: servingHosts(hosts) });
}

/**
 * Reads the CA pair (`ca.crt`, `ca.key`) of a PKI directory written by `ensurePki`. Throws `Error`
 * naming the directory when either file is missing.
 */
export async function loadCertificateAuthority(dir: string): Promise<CertificateAuthority> {
  const pair = await loadPair(dir, "ca");
  if (!pair) throw new Error(`no cluster CA in ${dir} (expected ca.crt and ca.key, as \`tug server\` writes them)`);
  return { caCert: pair.cert, caKey: pair.key };
}
