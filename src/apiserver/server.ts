/**
 * `createApiServer`: wires the kind registry, per-kind strategies, the protobuf codec, the watch
 * caches and the store into the apiserver Handler, and owns background work (watch caches,
 * periodic store compaction).
 */
import { allKinds } from "../api/registry.ts";
import * as protobuf from "../api/codec/mod.ts";
import { buildObjectFilter } from "../api/selectors/mod.ts";
import type { Store } from "../store/types.ts";
import type { Handler } from "../transport/types.ts";
import type { TokenEntry } from "../auth/authenticate.ts";
import { ServiceAllocator } from "./allocator.ts";
import { installDefaultAdmission, type AdmissionOptions } from "./admission/mod.ts";
import { bootstrapCluster } from "./bootstrap.ts";
import { resourceKey, type Resource, type ServerCore } from "./context.ts";
import { defaultVersion, type VersionInfo } from "./discovery.ts";
import { strategyFor } from "./registry/kinds/mod.ts";
import { createHandler } from "./handler.ts";
import { createRequestGate, type GateOptions } from "./flowcontrol/mod.ts";
import type { KubeletClientConfig } from "./proxy/mod.ts";
import { ApiMetrics } from "./metrics.ts";
import type { Codec, KindInfo, ResourceReader, SchemaHooks } from "./ports.ts";
import type { ResourceStrategy } from "./registry/strategy.ts";
import { generatedSchemaHooks } from "./schemahooks.ts";
import { ObjectCodec, storagePrefixes } from "./storage.ts";
import { createStoreReader } from "./storereader.ts";
import { eventPrefixes, startEventTtl, type EventTtl } from "./eventttl.ts";
import { createWatchCache, MemoPool } from "./watchcache/mod.ts";
import { registryAwareSchemaHooks, ResourceRegistry } from "./crd/registry.ts";
import { startCrdController, type CrdController } from "./crd/controller.ts";

export interface ApiServerOptions {
  readonly store: Store;
  /** Bearer tokens (see `loadTokenFile`). */
  readonly tokens?: ReadonlyMap<string, TokenEntry>;
  /** Serve unauthenticated requests (tests, local dev). Default false: 401. */
  readonly allowAnonymous?: boolean;
  readonly version?: Partial<VersionInfo>;
  readonly now?: () => Date;
  /** Service cluster-IP range (default 10.96.0.0/12) and node-port range (default 30000-32767). */
  readonly serviceCidr?: string;
  readonly nodePortRange?: readonly [number, number];
  /** `host:port` clients reach the apiserver at (discovery's serverAddressByClientCIDRs). */
  readonly serverAddress?: string;
  /** Port of the `kubernetes` service's targetPort (default 6443). */
  readonly apiserverPort?: number;
  /** Compaction period (default 5 min); 0 disables compaction. */
  readonly compactIntervalMs?: number;
  /** Overrides, mainly for tests. */
  readonly kinds?: readonly KindInfo[];
  readonly strategyFor?: (info: KindInfo) => ResourceStrategy;
  readonly codec?: Codec | null;
  readonly schema?: SchemaHooks;
  /** Bytes of encodings (JSON) the watch caches may keep, shared by all of them (default 256 MiB). */
  readonly encodingMemoBytes?: number;
  /** Use the store-backed reader instead of watch caches (tests of the handler core). */
  readonly useWatchCache?: boolean;
  readonly log?: (msg: string, err: unknown) => void;
  /** Client certificate + CA for proxying pod logs/exec/attach/port-forward to node agents. */
  readonly kubeletClient?: KubeletClientConfig;
  /** Built-in admission plugins (docs/admission.md); `false` turns admission off. Default: all. */
  readonly admission?: AdmissionOptions | false;
  /** Serve CustomResourceDefinitions' resources (the in-apiserver CRD controller). Default true. */
  readonly customResources?: boolean;
  /**
   * API Priority and Fairness and the in-flight limits (docs/apiserver.md). Default: APF on with
   * 400 + 200 seats, as upstream; `false`: no admission limits at all.
   */
  readonly flowControl?: GateOptions | false;
  /** Events are deleted this long after their last update (`--event-ttl`, default 1 h); 0 keeps them. */
  readonly eventTtlMs?: number;
}

export interface ApiServer {
  readonly handler: Handler;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const SKELETON_FIELDS = ["metadata.name", "metadata.namespace"];

function supportedFieldsOf(info: KindInfo, strategy: ResourceStrategy): string[] {
  try {
    const skeleton = { apiVersion: info.group ? `${info.group}/${info.version}` : info.version, kind: info.kind, metadata: { name: "", namespace: "" }, spec: {}, status: {} };
    return Object.keys(strategy.fields(skeleton));
  } catch {
    return SKELETON_FIELDS;
  }
}

/** Pods are indexed by node so a kubelet's watch costs O(its pods). */
function indexFieldsOf(info: KindInfo): string[] {
  return info.group === "" && info.plural === "pods" ? ["spec.nodeName"] : [];
}

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const now = opts.now ?? (() => new Date());
  const rawCodec: Codec | undefined = opts.codec === null ? undefined : opts.codec ?? protobuf;
  const codec = new ObjectCodec(rawCodec);
  const kinds = opts.kinds ?? allKinds();
  const prefixes = storagePrefixes(kinds);
  const resources = new Map<string, Resource>();
  for (const info of kinds) {
    const strategy = opts.strategyFor ? opts.strategyFor(info) : strategyFor(info.group, info.plural);
    resources.set(resourceKey(info.group, info.version, info.plural), {
      info,
      apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
      prefix: prefixes.get(info) as string,
      strategy,
      supportedFields: supportedFieldsOf(info, strategy),
      indexFields: indexFieldsOf(info),
    });
  }
  const registry = new ResourceRegistry(resources.values());
  const encodeWire = (o: Parameters<ObjectCodec["encodeWire"]>[0], e: "json" | "protobuf") => codec.encodeWire(o, e);
  const metrics = new ApiMetrics();
  let ready = false;
  let compactTimer: NodeJS.Timeout | undefined;
  let crdController: CrdController | undefined;
  let eventTtl: EventTtl | undefined;
  const log = opts.log ?? ((m: string, e: unknown) => console.error(m, e));

  const core: ServerCore = {
    store: opts.store,
    codec,
    get kinds() {
      return registry.kinds();
    },
    resources: registry.resources,
    registry,
    filters: (spec) => buildObjectFilter(spec),
    schema: registryAwareSchemaHooks(opts.schema ?? (rawCodec ? generatedSchemaHooks : {}), registry),
    now,
    metrics,
    services: new ServiceAllocator(opts.store, opts.serviceCidr, opts.nodePortRange),
    readerFor(res: Resource): ResourceReader {
      res.reader ??= createStoreReader(opts.store, {
        info: res.info, prefix: res.prefix, strategy: res.strategy,
        decode: res.convert ? (v) => res.convert!(codec.decodeStorage(v)) : (v) => codec.decodeStorage(v), encode: encodeWire,
      });
      return res.reader;
    },
  };

  if (opts.admission !== false) installDefaultAdmission(core, opts.admission ?? {});

  const handler = createHandler(core, {
    tokens: opts.tokens,
    allowAnonymous: opts.allowAnonymous,
    version: { ...defaultVersion(), ...(opts.version ?? {}) },
    serverAddress: opts.serverAddress,
    log: opts.log,
    ready: () => ready,
    kubeletClient: opts.kubeletClient,
    gate: opts.flowControl === false ? undefined : createRequestGate(opts.flowControl ?? {}),
  });

  return {
    handler,
    async start(): Promise<void> {
      if (opts.useWatchCache !== false) {
        // One budget for the encodings all caches keep (see watchcache/cached.ts). Protobuf is
        // derived from the stored values when they are this codec's encoding (the built-in one).
        const memo = new MemoPool(opts.encodingMemoBytes);
        const fromStored = rawCodec === protobuf;
        const startCache = (res: Resource): Promise<void> => {
          const convert = res.convert;
          const cache = createWatchCache({
            store: opts.store,
            prefix: res.prefix,
            decode: convert ? (kv) => convert(codec.decodeStorage(kv.value)) : (kv) => codec.decodeStorage(kv.value),
            fields: (o) => res.strategy.fields(o),
            encoders: { json: (o) => codec.encodeWire(o, "json"), protobuf: (o) => codec.encodeWire(o, "protobuf") },
            indexFields: res.indexFields,
            protobufFromStored: fromStored && !res.custom,
            memo,
          });
          res.reader = cache;
          return cache.start();
        };
        const starts: Promise<void>[] = [];
        for (const res of resources.values()) {
          if (res.reader) continue;
          starts.push(startCache(res));
        }
        await Promise.all(starts);
        registry.setReaderStarter(startCache);
      }
      if (opts.customResources !== false) {
        crdController = startCrdController(core, registry, log);
        await crdController.synced;
      }
      await bootstrapCluster(core, opts.apiserverPort !== undefined ? { apiserverPort: opts.apiserverPort } : {});
      const every = opts.compactIntervalMs ?? 5 * 60 * 1000;
      if (every > 0) {
        // Compact to the revision seen one period ago: watchers and paginated lists keep at least
        // one period of history.
        let mark = opts.store.currentRevision();
        compactTimer = setInterval(() => {
          const target = mark;
          mark = opts.store.currentRevision();
          if (target > opts.store.compactedRevision()) {
            opts.store.compact(target).catch((e: unknown) => (opts.log ?? console.error)("apiserver: compaction failed", e));
          }
        }, every);
        compactTimer.unref?.();
      }
      const ttl = opts.eventTtlMs ?? 3_600_000;
      if (ttl > 0) eventTtl = startEventTtl({ store: opts.store, prefixes: eventPrefixes(resources.values()), ttlMs: ttl, now: () => now().getTime(), log });
      ready = true;
    },
    async stop(): Promise<void> {
      ready = false;
      crdController?.stop();
      crdController = undefined;
      eventTtl?.stop();
      eventTtl = undefined;
      registry.setReaderStarter(undefined);
      registry.stopDynamic();
      if (compactTimer) clearInterval(compactTimer);
      compactTimer = undefined;
      for (const res of resources.values()) {
        res.reader?.stop();
        delete res.reader;
      }
    },
  };
}
