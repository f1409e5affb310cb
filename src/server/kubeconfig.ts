/**
 * The admin kubeconfig Tugboat writes once it serves. `renderKubeconfig` is pure; the file is
 * written with `writeFileAtomic` (see ./fs.ts).
 */
import { stringify } from "yaml";

/** Name of the cluster, user and context entries in the generated kubeconfig. */
export const KUBECONFIG_CONTEXT = "tugboat";

export interface KubeconfigInput {
  /** `https://HOST:PORT` (or `http://` for the plaintext test mode). */
  readonly server: string;
  /** PEM CA that signed the serving certificate; absent for plaintext. */
  readonly caPem?: string;
  /** PEM admin client certificate and key (x509 client-cert authentication). */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** A bearer token, used when no client certificate is given. */
  readonly token?: string;
}

const b64 = (pem: string): string => Buffer.from(pem, "utf8").toString("base64");

/** Renders a kubeconfig (YAML) with one cluster, user and context, all named `tugboat`. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const user: Record<string, string> = {};
  if (input.clientCertPem !== undefined && input.clientKeyPem !== undefined) {
    user["client-certificate-data"] = b64(input.clientCertPem);
    user["client-key-data"] = b64(input.clientKeyPem);
  } else if (input.token !== undefined) {
    user["token"] = input.token;
  }
  const cluster: Record<string, string> = { server: input.server };
  if (input.caPem !== undefined) cluster["certificate-authority-data"] = b64(input.caPem);
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: KUBECONFIG_CONTEXT, cluster }],
    users: [{ name: `${KUBECONFIG_CONTEXT}-admin`, user }],
    contexts: [{
      name: KUBECONFIG_CONTEXT,
      context: { cluster: KUBECONFIG_CONTEXT, user: `${KUBECONFIG_CONTEXT}-admin`, namespace: "default" },
    }],
    "current-context": KUBECONFIG_CONTEXT,
    preferences: {},
  };
  return stringify(doc, { lineWidth: 0 });
}
