/**
 * One streaming server per agent process: HTTPS on loopback with a serving certificate from the
 * cluster CA, client certificates required (see `handler.ts`), serving every node agent of the
 * process (a `tug hollow` fleet registers all its nodes with one server).
 *
 *   const server = await startStreamingServer({ credentials: await kubeletCredentialsFromPkiDir(dir) });
 *   const agent = new NodeAgent({ …, kubeletEndpoint: server.endpoint });
 *   server.register(agent.streaming);
 *   …
 *   await server.close();
 */
import { issueServingCert, KUBELET_SERVING_CN, loadCertificateAuthority, readKubeletServingCert, type CertificateAuthority } from "../../pki/mod.ts";
import { nodeHttp2Transport } from "../../transport/node-http2/mod.ts";
import type { Server } from "../../transport/types.ts";
import type { KubeletStreaming } from "../streaming.ts";
import { createStreamingHandler, type StreamingHandlerOptions } from "./handler.ts";

/** TLS material of a streaming server. */
export interface StreamingCredentials {
  /** PEM CA that verifies client certificates (the cluster CA). */
  readonly clientCa: string;
  readonly cert: string;
  readonly key: string;
}

/** What a node advertises (node annotation + `status.daemonEndpoints.kubeletEndpoint.Port`). */
export interface KubeletEndpoint {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
}

/** The node annotation holding the endpoint URL the apiserver dials. */
export const KUBELET_ENDPOINT_ANNOTATION = "tugboat.dev/kubelet-endpoint";

export interface StreamingServerOptions extends StreamingHandlerOptions {
  readonly credentials: StreamingCredentials;
  /** Loopback address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
}

export interface StreamingServer {
  readonly endpoint: KubeletEndpoint;
  /** Adds a node's streaming seam; returns the function removing it again. */
  register(node: KubeletStreaming): () => void;
  /** Stops listening and ends open streams. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** Issues a serving certificate for loopback from a cluster CA (nothing is written). */
export async function kubeletCredentials(ca: CertificateAuthority): Promise<StreamingCredentials> {
  const s = await issueServingCert(ca, KUBELET_SERVING_CN);
  return { clientCa: ca.caCert, cert: s.cert, key: s.key };
}

/**
 * Credentials from a PKI directory (e.g. `<tug server data dir>/pki`): the `kubelet-serving` pair the
 * control plane keeps there when it is usable, else one issued from `ca.crt` + `ca.key`.
 */
export async function kubeletCredentialsFromPkiDir(dir: string): Promise<StreamingCredentials> {
  const ready = await readKubeletServingCert(dir);
  if (ready) return { clientCa: ready.caCert, cert: ready.cert, key: ready.key };
  return kubeletCredentials(await loadCertificateAuthority(dir));
}

/** Starts listening. Throws `RangeError` for a non-loopback host. */
export async function startStreamingServer(o: StreamingServerOptions): Promise<StreamingServer> {
  const host = o.host ?? "127.0.0.1";
  if (!LOOPBACK.test(host)) throw new RangeError(`the streaming server listens on loopback only, got ${JSON.stringify(host)}`);
  const nodes = new Set<KubeletStreaming>();
  const handler = createStreamingHandler({
    find: (ns, pod) => {
      for (const n of nodes) if (n.lookupPod(ns, pod) !== undefined) return n;
      return undefined;
    },
    all: () => nodes,
  }, o);
  const server: Server = await nodeHttp2Transport.listen(handler, {
    host, port: o.port ?? 0, tls: { cert: o.credentials.cert, key: o.credentials.key, clientCa: o.credentials.clientCa },
  });
  const urlHost = host === "localhost" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    endpoint: { url: `https://${urlHost}:${server.port}`, port: server.port },
    register(node) {
      nodes.add(node);
      return () => void nodes.delete(node);
    },
    close: () => (closing ??= server.close()),
  };
}
