import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KubeconfigError, loadKubeconfig, parseKubeconfig } from "./kubeconfig.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

const full = `
apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ${b64("CA-PEM")}
- name: c2
  cluster:
    server: http://127.0.0.1:8080
users:
- name: admin
  user:
    client-certificate-data: ${b64("CERT-PEM")}
    client-key-data: ${b64("KEY-PEM")}
- name: bot
  user:
    token: s3cr3t
contexts:
- name: main
  context: { cluster: c1, user: admin, namespace: team-a }
- name: plain
  context: { cluster: c2, user: bot }
`;

describe("parseKubeconfig", () => {
  it("resolves the current context's cluster and user", () => {
    expect(parseKubeconfig(full)).toEqual({
      server: "https://127.0.0.1:6443", caPem: "CA-PEM", clientCertPem: "CERT-PEM", clientKeyPem: "KEY-PEM", namespace: "team-a",
    });
  });

  it("takes a named context, a bearer token and the default namespace", () => {
    expect(parseKubeconfig(full, { context: "plain" })).toEqual({ server: "http://127.0.0.1:8080", token: "s3cr3t", namespace: "default" });
  });

  it("reads file references relative to the kubeconfig's directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "tug-kc-"));
    writeFileSync(join(dir, "ca.crt"), "CA-FILE");
    writeFileSync(join(dir, "c.crt"), "CERT-FILE");
    writeFileSync(join(dir, "c.key"), "KEY-FILE");
    writeFileSync(join(dir, "token"), "tok\n");
    writeFileSync(join(dir, "config"), `
current-context: x
clusters: [{ name: c, cluster: { server: "https://h:1", certificate-authority: ca.crt, insecure-skip-tls-verify: true, tls-server-name: api } }]
users: [{ name: u, user: { client-certificate: c.crt, client-key: ${join(dir, "c.key")}, tokenFile: token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
`);
    expect(loadKubeconfig(join(dir, "config"))).toEqual({
      server: "https://h:1", caPem: "CA-FILE", clientCertPem: "CERT-FILE", clientKeyPem: "KEY-FILE", token: "tok",
      insecureSkipTlsVerify: true, tlsServerName: "api", namespace: "default",
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    ["not YAML", "a: [", /not valid YAML/],
    ["not a map", "- 1\n- 2", /expected a YAML map/],
    ["no current context", "clusters: []", /no current-context/],
    ["missing context", "current-context: nope\ncontexts: []", /no context named "nope"/],
    ["missing cluster", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]", /no cluster named "c"/],
    ["context without cluster", "current-context: a\ncontexts: [{name: a, context: {user: u}}]", /names no cluster/],
    ["cluster without server", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]", /has no server/],
    ["bad server URL", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'x y'}}]", /not a URL/],
    ["ftp server", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'ftp://h'}}]", /https:\/\/ or http:\/\//],
    ["bad base64", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: '!!!'}}]", /not valid base64/],
    ["server not a string", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 5}}]", /"server" must be a string/],
    ["contexts not a list", "current-context: a\ncontexts: {a: 1}", /"contexts" must be a list/],
    ["cert without key", "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {client-certificate-data: QQ==}}]", /without a key/],
    ["exec plugin", "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {exec: {command: x}}}]", /exec or auth-provider/],
    ["missing file", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://h', certificate-authority: /nonexistent/ca.crt}}]", /cannot read certificate-authority \/nonexistent\/ca.crt/],
    ["bad insecure flag", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: 'yes'}}]", /must be true or false/],
  ];
  it.each(bad)("rejects %s with a clear KubeconfigError", (_name, text, msg) => {
    expect(() => parseKubeconfig(text)).toThrow(KubeconfigError);
    expect(() => parseKubeconfig(text)).toThrow(msg);
  });

  it("names the file when it cannot be read", () => {
    expect(() => loadKubeconfig("/nonexistent/kubeconfig")).toThrow(/cannot read kubeconfig \/nonexistent\/kubeconfig/);
  });
});
