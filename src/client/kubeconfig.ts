/**
 * Kubeconfig loading: picks a context (the current one unless named) and resolves its cluster and
 * user into a `ClientConfig` — server URL, CA, client certificate/key (inline `*-data` or files,
 * relative paths resolved against the kubeconfig's directory), bearer token (inline or
 * `tokenFile`) and the context's namespace. Only the fields Tugboat's client uses are read;
 * exec/auth-provider plugins are refused with a clear message rather than silently ignored.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseKubeconfigText } from "./_kubeconfig_yaml.ts";

/** Everything a `RestClient` needs to reach and authenticate to one apiserver. */
export interface ClientConfig {
  /** `https://host:port` (TLS) or `http://host:port` (plaintext h2c, tests and benchmarks). */
  readonly server: string;
  /** PEM CA bundle that signed the serving certificate; absent = system roots. */
  readonly caPem?: string;
  /** PEM client certificate and key (x509 client-certificate authentication). */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Skip verification of the serving certificate (kubeconfig `insecure-skip-tls-verify`). */
  readonly insecureSkipTlsVerify?: boolean;
  /** Name to verify the serving certificate against instead of the URL's host. */
  readonly tlsServerName?: string;
  /** The context's default namespace ("default" when the context names none). */
  readonly namespace: string;
}

/** A kubeconfig that cannot be used; the message names the file and the offending entry. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeconfigError";
  }
}

export interface KubeconfigOptions {
  /** Use this context instead of `current-context`. */
  readonly context?: string;
  /** Directory relative file references resolve against (default: the process's cwd). */
  readonly baseDir?: string;
  /** Reads referenced files (certificates, keys, token files); injectable for tests. */
  readonly readFile?: (path: string) => string;
  /** Names the source in error messages. */
  readonly source?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new KubeconfigError(`${where}: "${key}" must be a string`);
  return v;
}

/** Finds the `{name, <field>: {...}}` entry named `name` in a kubeconfig list. */
function named(doc: Obj, list: string, field: string, name: string, src: string): Obj {
  const entries = doc[list];
  if (entries !== undefined && entries !== null && !Array.isArray(entries)) {
    throw new KubeconfigError(`${src}: "${list}" must be a list`);
  }
  for (const e of entries ?? []) {
    if (isObj(e) && e["name"] === name) {
      const body = e[field];
      if (!isObj(body)) throw new KubeconfigError(`${src}: ${list} entry "${name}" has no "${field}" map`);
      return body;
    }
  }
  throw new KubeconfigError(`${src}: no ${list.replace(/s$/, "")} named "${name}"`);
}

function decodeBase64(v: string, what: string): string {
  const clean = v.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw new KubeconfigError(`${what} is not valid base64`);
  }
  return Buffer.from(clean, "base64").toString("utf8");
}

/**
 * Parses kubeconfig YAML text into a `ClientConfig`.
 * Throws `KubeconfigError` when the YAML does not parse, no context is selected, the context,
 * cluster or user it names is missing, the cluster has no server, base64 data is malformed,
 * a referenced file cannot be read, or the user needs an exec/auth-provider plugin.
 */
export function parseKubeconfig(text: string, opts: KubeconfigOptions = {}): ClientConfig {
  const src = opts.source ?? "kubeconfig";
  let doc: unknown;
  try {
    doc = parseKubeconfigText(text);
  } catch (e) {
    throw new KubeconfigError(`${src}: not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObj(doc)) throw new KubeconfigError(`${src}: not a kubeconfig (expected a YAML map)`);
  const baseDir = opts.baseDir ?? process.cwd();
  const read = opts.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const readRef = (p: string, what: string): string => {
    const full = isAbsolute(p) ? p : resolve(baseDir, p);
    try {
      return read(full);
    } catch (e) {
      throw new KubeconfigError(`${src}: cannot read ${what} ${full}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const ctxName = opts.context ?? str(doc, "current-context", src);
  if (ctxName === undefined || ctxName === "") {
    throw new KubeconfigError(`${src}: no current-context is set and no context was named`);
  }
  const ctx = named(doc, "contexts", "context", ctxName, src);
  const clusterName = str(ctx, "cluster", `${src}: context "${ctxName}"`);
  const userName = str(ctx, "user", `${src}: context "${ctxName}"`);
  if (clusterName === undefined) throw new KubeconfigError(`${src}: context "${ctxName}" names no cluster`);
  const cluster = named(doc, "clusters", "cluster", clusterName, src);
  const cw = `${src}: cluster "${clusterName}"`;
  const server = str(cluster, "server", cw);
  if (server === undefined || server === "") throw new KubeconfigError(`${cw} has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(`${cw}: server "${server}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeconfigError(`${cw}: server "${server}" must use https:// or http://`);
  }

  const out: {
    server: string; caPem?: string; clientCertPem?: string; clientKeyPem?: string; token?: string;
    insecureSkipTlsVerify?: boolean; tlsServerName?: string; namespace: string;
  } = { server: server.replace(/\/+$/, ""), namespace: str(ctx, "namespace", `${src}: context "${ctxName}"`) || "default" };

  const caData = str(cluster, "certificate-authority-data", cw);
  const caFile = str(cluster, "certificate-authority", cw);
  if (caData !== undefined) out.caPem = decodeBase64(caData, `${cw}: certificate-authority-data`);
  else if (caFile !== undefined) out.caPem = readRef(caFile, "certificate-authority");
  const insecure = cluster["insecure-skip-tls-verify"];
  if (insecure === true) out.insecureSkipTlsVerify = true;
  else if (insecure !== undefined && insecure !== false && insecure !== null) {
    throw new KubeconfigError(`${cw}: "insecure-skip-tls-verify" must be true or false`);
  }
  const tlsServerName = str(cluster, "tls-server-name", cw);
  if (tlsServerName !== undefined) out.tlsServerName = tlsServerName;

  if (userName !== undefined) {
    const user = named(doc, "users", "user", userName, src);
    const uw = `${src}: user "${userName}"`;
    if (user["exec"] !== undefined || user["auth-provider"] !== undefined) {
      throw new KubeconfigError(`${uw} uses an exec or auth-provider plugin, which this client does not support`);
    }
    const certData = str(user, "client-certificate-data", uw);
    const certFile = str(user, "client-certificate", uw);
    const keyData = str(user, "client-key-data", uw);
    const keyFile = str(user, "client-key", uw);
    if (certData !== undefined) out.clientCertPem = decodeBase64(certData, `${uw}: client-certificate-data`);
    else if (certFile !== undefined) out.clientCertPem = readRef(certFile, "client-certificate");
    if (keyData !== undefined) out.clientKeyPem = decodeBase64(keyData, `${uw}: client-key-data`);
    else if (keyFile !== undefined) out.clientKeyPem = readRef(keyFile, "client-key");
    if ((out.clientCertPem === undefined) !== (out.clientKeyPem === undefined)) {
      throw new KubeconfigError(`${uw} has a client certificate without a key or a key without a certificate`);
    }
    const token = str(user, "token", uw);
    const tokenFile = str(user, "tokenFile", uw);
    if (token !== undefined && token !== "") out.token = token;
    else if (tokenFile !== undefined) out.token = readRef(tokenFile, "tokenFile").trim();
  }
  return out;
}

/**
 * Reads and parses the kubeconfig at `path` (relative file references resolve against its
 * directory). Throws `KubeconfigError` when the file cannot be read or is not usable.
 */
export function loadKubeconfig(path: string, opts: Omit<KubeconfigOptions, "baseDir" | "source"> = {}): ClientConfig {
  let text: string;
  try {
    text = (opts.readFile ?? ((p: string) => readFileSync(p, "utf8")))(path);
  } catch (e) {
    throw new KubeconfigError(`cannot read kubeconfig ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseKubeconfig(text, { ...opts, baseDir: dirname(resolve(path)), source: path });
}
