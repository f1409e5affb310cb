import { describe, expect, it } from "vitest";
import { hostNodeName, parseAgentFlags, parseHollowFlags } from "./cli.ts";
import { hollowNodeIP, hollowPodCidr } from "./fleet.ts";

describe("tug agent / tug hollow flags", () => {
  it("accepts good flags", () => {
    expect(parseAgentFlags({ kubeconfig: "k", nodeName: "n1", cpu: "2", memory: "4Gi", pods: "30" }))
      .toEqual({ kubeconfig: "k", nodeName: "n1", runtime: "hollow", capacity: { cpu: "2", memory: "4Gi", pods: "30" } });
    expect(parseHollowFlags({ kubeconfig: "k", nodes: "3" })).toEqual({ kubeconfig: "k", nodes: 3, namePrefix: "hollow-", capacity: {}, connections: 1 });
    expect(parseHollowFlags({ kubeconfig: "k", nodes: "10", podsPerNode: "50", namePrefix: "sim-" }).capacity).toEqual({ pods: "50" });
  });

  it("rejects bad flags with clear messages", () => {
    expect(() => parseAgentFlags({ nodeName: "n" })).toThrow("--kubeconfig is required");
    expect(() => parseAgentFlags({ kubeconfig: "k" })).toThrow("--node-name is required");
    expect(() => parseAgentFlags({ kubeconfig: "k", nodeName: "N_1" })).toThrow('--node-name "N_1" must be a lowercase RFC 1123 subdomain');
    expect(() => parseAgentFlags({ kubeconfig: "k", nodeName: "n", runtime: "rkt" })).toThrow('unknown --runtime "rkt" (available: hollow, process, docker)');
    expect(() => parseAgentFlags({ kubeconfig: "k", nodeName: "n", dockerHost: "unix:///x.sock" })).toThrow("--docker-host needs --runtime docker (got --runtime hollow)");
    expect(() => parseAgentFlags({ kubeconfig: "k", nodeName: "n", runtime: "docker", dockerHost: "/var/run/docker.sock" })).toThrow('--docker-host "/var/run/docker.sock" must be unix:///path/to/docker.sock or tcp://host:port');
    expect(() => parseAgentFlags({ kubeconfig: "k", nodeName: "n", cpu: "lots" })).toThrow('--cpu "lots" is not a quantity');
    expect(() => parseAgentFlags({ kubeconfig: "k", nodeName: "n", pods: "0" })).toThrow('--pods "0" must be a positive integer');
    expect(() => parseAgentFlags({ kubeconfig: "k", nodeName: "n", nodeIp: "192.168.1.5" })).toThrow('--node-ip "192.168.1.5" must be a loopback address');
    expect(() => parseHollowFlags({ kubeconfig: "k", nodes: "0" })).toThrow('--nodes must be an integer from 1 to 100000, got "0"');
    expect(() => parseHollowFlags({ kubeconfig: "k", nodes: "x" })).toThrow("--nodes must be an integer");
    expect(() => parseHollowFlags({ kubeconfig: "k", nodes: "2", namePrefix: "Bad" })).toThrow('--name-prefix "Bad"');
    expect(() => parseHollowFlags({ kubeconfig: "k", nodes: "2", connections: "0" })).toThrow("--connections must be an integer from 1 to 64");
  });

  it("accepts docker hosts", () => {
    expect(parseAgentFlags({ kubeconfig: "k", nodeName: "n", runtime: "docker", dockerHost: "unix:///run/d.sock" })).toMatchObject({ runtime: "docker", dockerHost: "unix:///run/d.sock" });
    expect(parseAgentFlags({ kubeconfig: "k", nodeName: "n", runtime: "docker", dockerHost: "tcp://127.0.0.1:2375" }).dockerHost).toBe("tcp://127.0.0.1:2375");
    expect(parseAgentFlags({ kubeconfig: "k", nodeName: "n", runtime: "docker" }).dockerHost).toBeUndefined();
  });

  it("derives node names, IPs and pod CIDRs", () => {
    expect(hostNodeName()).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect([hollowNodeIP(0), hollowNodeIP(257), hollowNodeIP(70_000)]).toEqual(["127.1.0.0", "127.1.1.1", "127.2.17.112"]);
    expect([hollowPodCidr(0), hollowPodCidr(4999)]).toEqual(["10.64.0.0/24", "10.83.135.0/24"]);
  });
});
