import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderKubeconfig } from "./kubeconfig.ts";

describe("renderKubeconfig", () => {
  it("writes one cluster/user/context named tugboat with base64 PEM data", () => {
    const doc = parse(renderKubeconfig({
      server: "https://127.0.0.1:6443", caPem: "CA", clientCertPem: "CERT", clientKeyPem: "KEY",
    })) as Record<string, unknown>;
    expect(doc).toMatchObject({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "tugboat",
      clusters: [{ name: "tugboat", cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": "Q0E=" } }],
      users: [{ name: "tugboat-admin", user: { "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" } }],
      contexts: [{ name: "tugboat", context: { cluster: "tugboat", user: "tugboat-admin", namespace: "default" } }],
    });
  });
  it("uses a token when no client certificate is given", () => {
    const doc = parse(renderKubeconfig({ server: "http://127.0.0.1:1", token: "t0k" })) as {
      users: Array<{ user: Record<string, string> }>;
      clusters: Array<{ cluster: Record<string, string> }>;
    };
    expect(doc.users[0]?.user).toEqual({ token: "t0k" });
    expect(doc.clusters[0]?.cluster).toEqual({ server: "http://127.0.0.1:1" });
  });
});
