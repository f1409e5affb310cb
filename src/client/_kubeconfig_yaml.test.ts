import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { NOT_SIMPLE, parseKubeconfigText, readSimpleYaml } from "./_kubeconfig_yaml.ts";

// As `tug server --kubeconfig-out` writes it (sequences indented under their key).
const TUG = `apiVersion: v1
kind: Config
clusters:
  - name: tugboat
    cluster:
      server: https://127.0.0.1:39673
      certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJh+/==
users:
  - name: tugboat-admin
    user:
      client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
      client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTT
contexts:
  - name: tugboat
    context:
      cluster: tugboat
      user: tugboat-admin
      namespace: default
current-context: tugboat
preferences: {}
`;

// As kubectl writes it (sequences at their key's indentation, quoted and empty values, comments).
const KUBECTL = `---
# written by kubectl config
apiVersion: v1
clusters:
- cluster:
    certificate-authority: ../pki/ca.crt   # relative to this file
    insecure-skip-tls-verify: false
    server: "https://kind-control-plane:6443"
    tls-server-name: 'it''s.example'
  name: kind
contexts:
- context:
    cluster: kind
    namespace: ""
    user: "kind\\u00e9\\x21\\t"
  name: kind-kind
- context:
    cluster: other
    user:
  name: empty user
current-context: kind-kind
kind: Config
preferences: {}
extensions: []
users:
- name: kind
  user:
    token: abc.def-ghi_jkl
    tokenFile: /var/run/secrets/token
    replicas: 3
    enabled: True
    nothing: ~
    nested:
    -
      a: -1
    - b
-   name: wide
    user: {}
`;

describe("readSimpleYaml", () => {
  it.each([["tug", TUG], ["kubectl", KUBECTL]])("reads a %s kubeconfig exactly as the yaml package does", (_n, text) => {
    const v = readSimpleYaml(text);
    expect(v).not.toBe(NOT_SIMPLE);
    expect(v).toEqual(parse(text));
  });

  it.each([
    ["an anchor", "a: &x 1\nb: *x\n"],
    ["a tag", "a: !!str 1\n"],
    ["a block scalar", "a: |\n  text\n"],
    ["a folded scalar", "a: >\n  text\n"],
    ["a multi-line plain scalar", "a: one\n  two\n"],
    ["a multi-line quoted scalar", 'a: "one\n  two"\n'],
    ["a non-empty flow mapping", "a: {b: 1}\n"],
    ["a non-empty flow sequence", "a: [1, 2]\n"],
    ["a float", "a: 1.5\n"],
    ["a hex number", "a: 0x1f\n"],
    ["an IP-like plain scalar", "a: 10.0.0.1\n"],
    ["a directive", "%YAML 1.2\n---\na: 1\n"],
    ["two documents", "a: 1\n---\nb: 2\n"],
    ["a duplicate key", "a: 1\na: 2\n"],
    ["a merge key", "<<: {}\n"],
    ["a __proto__ key", "__proto__: 1\n"],
    ["a boolean key", "true: 1\n"],
    ["a numeric key", "1: 1\n"],
    ["a tab", "a:\n\tb: 1\n"],
    ["a complex key", "? a\n: 1\n"],
    ["a nested compact sequence", "a:\n- - 1\n"],
    ["a plain scalar with ': '", "a: b: c\n"],
    ["an unknown escape", 'a: "\\q"\n'],
    ["text after a quoted scalar", 'a: "b" c\n'],
    ["a top-level scalar", "hello\n"],
    ["an empty document", "# only a comment\n"],
    ["bad indentation", "a:\n    b: 1\n  c: 2\n"],
  ])("refuses %s", (_n, text) => {
    expect(readSimpleYaml(text)).toBe(NOT_SIMPLE);
  });

  it("agrees with the yaml package on mutated kubeconfigs whenever it accepts one", () => {
    // Deterministic mutations (LCG): drop/insert/replace characters, change indentation, swap lines.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = [" ", "-", ":", "#", '"', "'", "\n", "  ", "{", "}", "[", "]", "a", "1", ".", "~", "\\", "&", "*", "!", "|", "?", "0x", "true", "null", "- ", ": "];
    let accepted = 0;
    for (let k = 0; k < 2000; k++) {
      let t = k % 2 === 0 ? TUG : KUBECTL;
      const edits = 1 + rnd(3);
      for (let e = 0; e < edits; e++) {
        const p = rnd(t.length);
        const op = rnd(4);
        if (op === 0) t = t.slice(0, p) + t.slice(p + 1 + rnd(3));
        else if (op === 1) t = t.slice(0, p) + alphabet[rnd(alphabet.length)]! + t.slice(p);
        else if (op === 2) t = t.slice(0, p) + alphabet[rnd(alphabet.length)]! + t.slice(p + 1);
        else {
          const ls = t.split("\n");
          const i = rnd(ls.length);
          ls[i] = rnd(2) === 0 ? ` ${ls[i]}` : ls[i]!.replace(/^ /, "");
          t = ls.join("\n");
        }
      }
      const v = readSimpleYaml(t);
      if (v === NOT_SIMPLE) continue;
      accepted++;
      let want: unknown;
      try {
        want = parse(t);
      } catch (err) {
        throw new Error(`accepted input the yaml package rejects (${String(err)}):\n${t}`);
      }
      if (JSON.stringify(v) !== JSON.stringify(want)) expect({ text: t, got: v }).toEqual({ text: t, got: want });
    }
    expect(accepted).toBeGreaterThan(200);
  });
});

describe("parseKubeconfigText", () => {
  it("parses JSON with JSON.parse", () => {
    const doc = { apiVersion: "v1", kind: "Config", "current-context": "x", clusters: [{ name: "x", cluster: { server: "http://127.0.0.1:1" } }] };
    expect(parseKubeconfigText(`  ${JSON.stringify(doc, null, 2)}\n`)).toEqual(doc);
  });

  it("falls back to the yaml package for YAML outside the subset", () => {
    const text = "base: &b\n  server: https://a\nclusters:\n- name: x\n  cluster: *b\nratio: 1.5\n";
    expect(parseKubeconfigText(text)).toEqual(parse(text));
  });

  it("falls back to the yaml package for a flow mapping that is not JSON", () => {
    expect(parseKubeconfigText("{a: 1, b: [x]}")).toEqual({ a: 1, b: ["x"] });
  });

  it("throws the yaml package's error for invalid YAML", () => {
    expect(() => parseKubeconfigText("a: 1\na: 2\n")).toThrow(/unique/);
    expect(() => parseKubeconfigText('a: "unterminated\n')).toThrow();
    expect(() => parseKubeconfigText("{\"a\": ")).toThrow();
  });
});
