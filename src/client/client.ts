/**
 * The entry point of the client library: one `Client` per apiserver (one HTTP/2 session shared by
 * every resource client), built from a kubeconfig or a `ClientConfig`.
 *
 *   const client = createClient(loadKubeconfig(".tug/kubeconfig"));           // protobuf
 *   const deploys = client.resourceFor("apps/v1", "Deployment").namespace("default");
 *   await deploys.create({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec });
 *   client.close();
 */
import { kindByGvk, kindByResource, type KindInfo } from "../api/registry.ts";
import type { KubeObject } from "../api/object.ts";
import type { Encoding } from "./encoding.ts";
import type { ClientConfig } from "./kubeconfig.ts";
import { loadKubeconfig } from "./kubeconfig.ts";
import { ResourceClient, type ResourceRef } from "./resource.ts";
import { RestClient, type RestClientOptions } from "./rest.ts";

export interface ClientOptions {
  /** Default "protobuf" (JSON for kinds without a protobuf message). */
  readonly encoding?: Encoding;
  readonly userAgent?: string;
  readonly compression?: boolean;
  readonly timeoutMs?: number;
}

export class Client {
  readonly rest: RestClient;

  /** `rest`: an existing RestClient to use (see `withToken`). */
  constructor(readonly config: ClientConfig, opts: ClientOptions = {}, rest?: RestClient) {
    const o: RestClientOptions = { ...config, ...opts };
    this.rest = rest ?? new RestClient(o);
  }

  /** The same server and connection, authenticating as the holder of `token` (bearer). */
  withToken(token: string): Client {
    return new Client({ ...this.config, token }, {}, this.rest.withToken(token));
  }

  /** This client over the same connection, retrying Retry-After answers at most `maxRetries` times. */
  withRetries(maxRetries: number): Client {
    return new Client(this.config, {}, this.rest.withRetries(maxRetries));
  }

  /** The wire encoding this client asks for. */
  get encoding(): Encoding {
    return this.rest.encoding;
  }

  /** The context's default namespace from the kubeconfig. */
  get defaultNamespace(): string {
    return this.config.namespace;
  }

  /** A client for an explicitly described resource (also custom resources). */
  resource<T extends KubeObject = KubeObject>(ref: ResourceRef): ResourceClient<T> {
    return new ResourceClient<T>(this.rest, { group: ref.group, version: ref.version, plural: ref.plural, namespaced: ref.namespaced });
  }

  /** A client for a built-in kind by apiVersion and kind ("apps/v1", "Deployment"). Throws `TypeError` if unknown. */
  resourceFor<T extends KubeObject = KubeObject>(apiVersion: string, kind: string): ResourceClient<T> {
    const k = kindByGvk(apiVersion, kind);
    if (!k) throw new TypeError(`no built-in resource for kind "${kind}" in version "${apiVersion}"`);
    return this.resource<T>(k);
  }

  /** A client for a built-in resource by group/version/plural. Throws `TypeError` if unknown. */
  resourceByName<T extends KubeObject = KubeObject>(group: string, version: string, plural: string): ResourceClient<T> {
    const k = kindByResource(group, version, plural);
    if (!k) throw new TypeError(`no built-in resource ${plural} in ${group === "" ? version : `${group}/${version}`}`);
    return this.resource<T>(k);
  }

  /** The resource client for an object's apiVersion/kind, bound to its namespace when namespaced. */
  resourceForObject<T extends KubeObject = KubeObject>(obj: T): ResourceClient<T> {
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") throw new TypeError("the object has no apiVersion/kind");
    const rc = this.resourceFor<T>(obj.apiVersion, obj.kind);
    const ns = obj.metadata?.namespace;
    return rc.ref.namespaced && ns !== undefined && ns !== "" ? rc.namespace(ns) : rc;
  }

  /** Closes the HTTP/2 session (running watches end). */
  close(): void {
    this.rest.close();
  }
}

/** Creates a client for `config`. */
export function createClient(config: ClientConfig, opts?: ClientOptions): Client {
  return new Client(config, opts);
}

/** Creates a client from the kubeconfig file at `path` (its current context unless `context` is given). */
export function clientFromKubeconfig(path: string, opts: ClientOptions & { context?: string } = {}): Client {
  const { context, ...rest } = opts;
  return new Client(loadKubeconfig(path, context !== undefined ? { context } : {}), rest);
}

export type { KindInfo };
