/**
 * The composition root: opens the store, ensures the PKI and tokens, builds the apiserver, listens
 * with the chosen HTTP adapter and, only once it serves, writes the admin kubeconfig.
 * Used by `tug server`, `tug up` and the end-to-end tests.
 */
import { dirname, join, resolve } from "node:path";
import type { Store } from "../store/types.ts";
import { StoreError } from "../store/types.ts";
import { ApiError } from "../api/errors.ts";
import type { Handler, HttpResponse, Server } from "../transport/types.ts";
import { openEmbeddedStore } from "../store/embedded/mod.ts";
import { ensureKubeletClientCert, ensureKubeletServingCert, ensurePki, type Pki } from "../pki/mod.ts";
import { createApiServer } from "../apiserver/server.ts";
import type { GateOptions } from "../apiserver/flowcontrol/mod.ts";
import { clientFromKubeconfig } from "../client/client.ts";
import { startControllerManager } from "../controllers/manager.ts";
import { startLocalAgent } from "../kubelet/cli.ts";
import type { SchedulerConfig } from "../scheduler/framework/config.ts";
import { createSchedulerRunner } from "../scheduler/runner/runner.ts";
import type { KernelChoice } from "../scheduler/runner/kernel.ts";
import { serveMetrics } from "../scheduler/runner/serve.ts";
import { selectComponents } from "./components.ts";
import { errnoCode, lockDataDir, writeFileAtomic } from "./fs.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { dialHost, formatUrl, type ListenAddress } from "./listen.ts";
import { ensureAdminTokenFile, ensureComponentTokens, loadTokenFile, type ComponentUser, type TokenUser } from "./tokens.ts";
import { ensureNodeTokenKey, NodeTokenMap } from "../auth/nodetoken.ts";
import { defaultTransport, loadTransport, type TransportName } from "./transports.ts";

export interface ControlPlaneOptions {
  /** Holds `store/`, `pki/`, `tokens.csv` and the lock file. Created if missing. */
  readonly dataDir: string;
  readonly listen: ListenAddress;
  /** Where to write the admin kubeconfig once serving (atomically, mode 0600). */
  readonly kubeconfigOut: string;
  /** Default: `deno` on Deno, `node-http2` elsewhere. */
  readonly transport?: TransportName;
  /** Extra static tokens (kube-apiserver `--token-auth-file` format). */
  readonly tokenAuthFile?: string;
  /** Serve plaintext (h2c / HTTP/1.1 depending on the adapter). Tests and benchmarks only. */
  readonly insecurePlaintext?: boolean;
  /** API Priority and Fairness / in-flight limits (`--max-requests-inflight` …); default: upstream's. */
  readonly flowControl?: GateOptions;
  /** Components not to start (see components.ts). */
  readonly disable?: readonly string[];
  /** The in-process scheduler (skipped when "scheduler" is disabled). */
  readonly scheduler?: {
    readonly config?: SchedulerConfig;
    readonly kernel?: KernelChoice;
    /** `host:port` serving the scheduler's `/metrics` over plain HTTP (off when undefined). */
    readonly metricsAddress?: ListenAddress;
  };
  /** Events are deleted this long after their last update (`--event-ttl`; default 1 h, 0 keeps them). */
  readonly eventTtlMs?: number;
  /** Run an in-process node agent (`tug up`; skipped when "agent" is disabled). */
  readonly agent?: { readonly nodeName?: string; readonly runtime?: "hollow" | "process" | "docker"; readonly dockerHost?: string };
}

export interface ControlPlane {
  /** The URL clients dial, e.g. `https://127.0.0.1:6443` (the real port when 0 was asked). */
  readonly url: string;
  readonly port: number;
  readonly kubeconfigPath: string;
  /** The admin bearer token from `DIR/tokens.csv`. */
  readonly adminToken: string;
  /** PEM CA of the serving certificate ("" in plaintext mode). */
  readonly caPem: string;
  readonly transport: TransportName;
  /** Stops accepting, closes open streams, the apiserver and the store (flushing it). Idempotent. */
  stop(): Promise<void>;
}

/** The apiserver as the composition root sees it. */
export interface ApiServerLike {
  readonly handler: Handler;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ApiServerContext {
  readonly store: Store;
  readonly tokens: ReadonlyMap<string, TokenUser>;
  readonly pki: Pki;
  /** `host:port` clients dial (the real port, also when 0 was asked). */
  readonly address: string;
  readonly port: number;
  readonly flowControl?: GateOptions | undefined;
  /** See `ControlPlaneOptions.eventTtlMs`. */
  readonly eventTtlMs?: number | undefined;
}

/** The parts the control plane composes; tests may replace them. */
export interface ControlPlaneDeps {
  openStore(dataDir: string): Promise<Store>;
  createApiServer(ctx: ApiServerContext): ApiServerLike | Promise<ApiServerLike>;
}

export const defaultDeps: ControlPlaneDeps = {
  openStore: (dataDir) => openEmbeddedStore({ dataDir }),
  createApiServer: async ({ store, tokens, pki, address, port, flowControl, eventTtlMs }) => {
    // The client certificate the apiserver presents to node agents' streaming endpoints.
    const kubelet = await ensureKubeletClientCert(pki);
    // The loopback serving pair node agents sharing this PKI directory present (they read it).
    await ensureKubeletServingCert(pki);
    return createApiServer({
      store,
      // Static tokens plus node tokens signed with pki/node-token.key (src/auth/nodetoken.ts).
      tokens: new NodeTokenMap(ensureNodeTokenKey(pki.dir), tokens),
      serverAddress: address,
      apiserverPort: port,
      kubeletClient: { caCert: pki.caCert, cert: kubelet.cert, key: kubelet.key },
      ...(eventTtlMs !== undefined ? { eventTtlMs } : {}),
      ...(flowControl !== undefined ? { flowControl } : {}),
      log: (msg, err) => process.stderr.write(`tug: ${msg}: ${describe(err)}\n`),
    });
  },
};

/** Kubeconfig file names of the component identities, written beside the admin kubeconfig. */
export const COMPONENT_KUBECONFIGS: ReadonlyMap<ComponentUser, string> = new Map([
  ["system:kube-controller-manager", "controller-manager.kubeconfig"],
  ["system:kube-scheduler", "scheduler.kubeconfig"],
]);

/** A start failure with a message fit for one line on stderr. */
export class StartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartError";
  }
}

function notReady(): HttpResponse {
  const status = new ApiError(503, "ServiceUnavailable", "the apiserver is starting").status;
  return { status: 503, headers: { "content-type": "application/json", "retry-after": "1" }, body: JSON.stringify(status) };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Starts the control plane. Resolves once the API serves and the kubeconfig is written.
 * Rejects with `StartError` (everything opened so far is closed again) when the data dir is locked
 * by a live process, the store is corrupt, the port is taken, or any other step fails.
 */
export async function startControlPlane(
  opts: ControlPlaneOptions,
  deps: ControlPlaneDeps = defaultDeps,
): Promise<ControlPlane> {
  const dataDir = resolve(opts.dataDir);
  const kubeconfigPath = resolve(opts.kubeconfigOut);
  const transportName = opts.transport ?? defaultTransport();
  let components: Set<string>;
  try {
    components = selectComponents(opts.disable ?? []);
  } catch (err) {
    throw new StartError(describe(err), { cause: err });
  }
  let transport;
  try {
    transport = await loadTransport(transportName);
  } catch (err) {
    throw new StartError(describe(err), { cause: err });
  }

  const cleanups: Array<() => Promise<void> | void> = [];
  const unwind = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // best effort while failing
      }
    }
  };
  const step = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      await unwind();
      if (err instanceof StartError) throw err;
      throw new StartError(`${what}: ${describe(err)}`, { cause: err });
    }
  };

  try {
    cleanups.push(lockDataDir(dataDir));
  } catch (err) {
    throw new StartError(describe(err), { cause: err });
  }

  // Tokens: the admin token is generated at first start; an extra file may add more identities.
  const { tokens, adminToken, componentTokens } = await step("tokens", () => {
    const admin = ensureAdminTokenFile(join(dataDir, "tokens.csv"));
    // The controller manager and the scheduler get their own identities (flow control sorts by user).
    const comp = ensureComponentTokens(join(dataDir, "tokens.csv"));
    const all = new Map<string, TokenUser>(comp.tokens);
    if (opts.tokenAuthFile !== undefined) {
      for (const [t, u] of loadTokenFile(resolve(opts.tokenAuthFile))) all.set(t, u);
    }
    return { tokens: all, adminToken: admin.adminToken, componentTokens: comp.componentTokens };
  });

  const hosts = [...new Set([dialHost(opts.listen.host), "localhost", "127.0.0.1", "::1"])];
  const pki = await step("pki", () => ensurePki(join(dataDir, "pki"), { hosts }));

  const storeDir = join(dataDir, "store");
  const store: Store = await step(`store ${storeDir}`, async () => {
    try {
      return await deps.openStore(storeDir);
    } catch (err) {
      if (err instanceof StoreError && err.code === "Corrupt") {
        throw new StartError(`store ${storeDir} is corrupt and was not opened: ${err.message}`, { cause: err });
      }
      throw err;
    }
  });
  cleanups.push(() => store.close());

  // Listen first (so a taken port fails fast and the real port is known), with a handler that
  // answers 503 until the apiserver has started, then hands every request to it.
  let serve: Handler = async () => notReady();
  const forward: Handler = (req) => serve(req);
  const listenHost = opts.listen.host;
  const server: Server = await step(`listen`, async () => {
    try {
      return await transport.listen(forward, {
        host: listenHost,
        port: opts.listen.port,
        ...(opts.insecurePlaintext === true
          ? {}
          : { tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } }),
      });
    } catch (err) {
      const where = formatUrl("https", listenHost, opts.listen.port).replace(/^https:\/\//, "");
      const code = errnoCode(err);
      if (code === "EADDRINUSE") throw new StartError(`cannot listen on ${where}: address already in use`);
      if (code === "EADDRNOTAVAIL") throw new StartError(`cannot listen on ${where}: address not available`);
      if (code === "EACCES") throw new StartError(`cannot listen on ${where}: permission denied`);
      throw new StartError(`cannot listen on ${where}: ${describe(err)}`, { cause: err });
    }
  });
  // Unwinding runs in reverse: stop accepting first, then the apiserver (ends watches), then the store.
  cleanups.push(() => server.close());

  const address = `${dialHost(listenHost).includes(":") ? `[${dialHost(listenHost)}]` : dialHost(listenHost)}:${server.port}`;
  const api = await step("apiserver", () => deps.createApiServer({ store, tokens, pki, address, port: server.port, flowControl: opts.flowControl, eventTtlMs: opts.eventTtlMs }));
  await step("apiserver start", () => api.start());
  // pushed before `server.close` would run in unwind order: apiserver stops after the listener
  cleanups.splice(cleanups.length - 1, 0, () => api.stop());
  serve = api.handler;

  const scheme = opts.insecurePlaintext === true ? "http" : "https";
  const url = formatUrl(scheme, dialHost(listenHost), server.port);
  await step("kubeconfig", () => {
    // Without TLS, or on an adapter that cannot verify client certificates (uws, deno), the
    // admin identity travels as the bearer token instead.
    const useToken = opts.insecurePlaintext === true || transport.capabilities?.clientCertificates !== true;
    const text = opts.insecurePlaintext === true
      ? renderKubeconfig({ server: url, token: adminToken })
      : useToken
      ? renderKubeconfig({ server: url, caPem: pki.caCert, token: adminToken })
      : renderKubeconfig({ server: url, caPem: pki.caCert, clientCertPem: pki.adminCert, clientKeyPem: pki.adminKey });
    writeFileAtomic(kubeconfigPath, text, 0o600);
    // One kubeconfig per component, next to the admin one (token-based on every transport).
    for (const [user, file] of COMPONENT_KUBECONFIGS) {
      const token = componentTokens.get(user);
      if (token === undefined) continue;
      writeFileAtomic(join(dirname(kubeconfigPath), file), renderKubeconfig({ server: url, token, ...(opts.insecurePlaintext === true ? {} : { caPem: pki.caCert }) }), 0o600);
    }
  });
  const componentKubeconfig = (user: ComponentUser): string => {
    const file = COMPONENT_KUBECONFIGS.get(user);
    return file !== undefined && componentTokens.has(user) ? join(dirname(kubeconfigPath), file) : kubeconfigPath;
  };

  if (components.has("controller-manager")) {
    // In-process, through the API like any other client (admin kubeconfig, protobuf).
    await step("controller-manager", () => {
      const client = clientFromKubeconfig(componentKubeconfig("system:kube-controller-manager"), { userAgent: "tug-controller-manager" });
      const cm = startControllerManager({ client });
      cleanups.push(async () => {
        await cm.stop();
        client.close();
      });
    });
  }

  if (components.has("scheduler")) {
    // In-process, through the API like any other client; leader-elected on kube-system/kube-scheduler.
    const so = opts.scheduler ?? {};
    await step("scheduler", async () => {
      const client = clientFromKubeconfig(componentKubeconfig("system:kube-scheduler"), { userAgent: "tug-scheduler" });
      const sched = await createSchedulerRunner({
        client, ...(so.config ? { config: so.config } : {}), ...(so.kernel ? { kernel: so.kernel } : {}),
      }).catch((err: unknown) => {
        client.close();
        throw err;
      });
      sched.start();
      cleanups.push(async () => {
        await sched.stop();
        client.close();
      });
      const ma = so.metricsAddress;
      if (ma) {
        const metrics = await serveMetrics(ma.host, ma.port, () => sched.metricsText(), () => sched.isActive());
        cleanups.push(() => metrics.close());
        process.stderr.write(`tug: scheduler metrics at ${formatUrl("http", dialHost(ma.host), metrics.port)}/metrics\n`);
      }
    });
  }

  if (opts.agent !== undefined && components.has("agent")) {
    // A node agent named after the host, through the API like any kubelet (stopped first on shutdown).
    const agentOpts = opts.agent;
    const stopAgent = await step("agent", () => startLocalAgent({
      kubeconfigPath, dataDir, ...(agentOpts.nodeName !== undefined ? { nodeName: agentOpts.nodeName } : {}),
      ...(agentOpts.runtime !== undefined ? { runtime: agentOpts.runtime } : {}),
      ...(agentOpts.dockerHost !== undefined ? { dockerHost: agentOpts.dockerHost } : {}),
    }));
    cleanups.push(stopAgent);
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    port: server.port,
    kubeconfigPath,
    adminToken,
    caPem: opts.insecurePlaintext === true ? "" : pki.caCert,
    transport: transportName,
    stop: () => (stopping ??= unwind()),
  };
}
