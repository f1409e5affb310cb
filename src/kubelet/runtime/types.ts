/**
 * The container runtime port of Tugboat's node agent, shaped after the Kubernetes CRI
 * (k8s.io/cri-api `RuntimeService` + `ImageService`) and narrowed to what our kubelet uses.
 * Every runtime (hollow, docker, process) implements `RuntimeService` and runs the shared suite in
 * `conformance.ts`.
 *
 * Model (as in the CRI):
 * - A pod sandbox is the pod's shared environment (network namespace / IP, log directory). It is
 *   READY after `runPodSandbox` and NOTREADY after `stopPodSandbox`; it disappears on
 *   `removePodSandbox`, taking its containers with it.
 * - A container lives in one sandbox and moves CREATED -> RUNNING -> EXITED (never backwards).
 *   Restarting is the kubelet's business: it creates a new container with `attempt + 1`.
 *   (name, attempt) is unique among the containers of a sandbox.
 * - State lives in the runtime, not in the client: a new client over the same runtime state
 *   (after the agent restarts) lists the same sandboxes and containers with the same ids.
 *
 * Times are milliseconds since the Unix epoch (`number`); absent means "not yet".
 *
 * Errors: every method rejects with `RuntimeError` (./errors.ts). Common to all methods:
 * `InvalidArgument` for malformed input and `Unavailable` once the runtime is closed or down.
 * Removal and stop of sandboxes are idempotent (no error for unknown ids), as the CRI requires;
 * everything else addressing an unknown id fails with `NotFound`.
 */

// ---------------------------------------------------------------------------------------------
// Sandboxes

export interface PodSandboxMetadata {
  /** Pod name. */
  readonly name: string;
  /** Pod UID. */
  readonly uid: string;
  readonly namespace: string;
  /** Incremented by the kubelet each time it recreates the sandbox of the same pod (>= 0). */
  readonly attempt: number;
}

export interface DnsConfig {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export interface PortMapping {
  readonly protocol: "TCP" | "UDP" | "SCTP";
  readonly containerPort: number;
  /** 0 or absent: no host port. */
  readonly hostPort?: number;
  readonly hostIp?: string;
}

/** Resource hints for the pod-level cgroup (sum of its containers), in Kubernetes units. */
export interface PodResources {
  readonly cpuMillisLimit?: number;
  readonly memoryBytesLimit?: number;
  readonly cpuMillisRequest?: number;
  readonly memoryBytesRequest?: number;
}

export interface PodSandboxConfig {
  readonly metadata: PodSandboxMetadata;
  /** Hostname inside the pod (defaults to the pod name). */
  readonly hostname?: string;
  /**
   * Absolute directory for the pod's container logs (the kubelet uses
   * `/var/log/pods/<namespace>_<name>_<uid>`). Container `logPath`s are relative to it.
   */
  readonly logDirectory?: string;
  readonly dnsConfig?: DnsConfig;
  readonly portMappings?: readonly PortMapping[];
  /** Identifying labels (the kubelet sets pod name, namespace and uid here); used by filters. */
  readonly labels: Readonly<Record<string, string>>;
  /** Opaque to the runtime; returned as given. */
  readonly annotations: Readonly<Record<string, string>>;
  /** Parent cgroup for the pod (Linux runtimes; others ignore it). */
  readonly cgroupParent?: string;
  readonly resources?: PodResources;
}

export type PodSandboxState = "READY" | "NOTREADY";

/** One sandbox as listed. */
export interface PodSandbox {
  readonly id: string;
  readonly metadata: PodSandboxMetadata;
  readonly state: PodSandboxState;
  readonly createdAt: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface PodSandboxNetworkStatus {
  /** The pod IP. */
  readonly ip: string;
  readonly additionalIps?: readonly string[];
}

export interface PodSandboxStatus extends PodSandbox {
  /** Present while the sandbox is READY; a stopped sandbox has released its network. */
  readonly network?: PodSandboxNetworkStatus;
  readonly hostname: string;
  readonly logDirectory?: string;
}

export interface PodSandboxFilter {
  readonly id?: string;
  readonly state?: PodSandboxState;
  /** Every pair must be present in the sandbox's labels (AND). */
  readonly labelSelector?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Containers

export interface ContainerMetadata {
  /** Container name from the pod spec (a DNS label). */
  readonly name: string;
  /** Restart attempt (the kubelet's restart count); >= 0. */
  readonly attempt: number;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface Mount {
  /** Path inside the container (absolute). */
  readonly containerPath: string;
  /** Path on the host. */
  readonly hostPath: string;
  readonly readonly?: boolean;
}

/** Container resources in Kubernetes units (CPU in millicores, memory in bytes). */
export interface ContainerResources {
  readonly cpuMillisRequest?: number;
  readonly cpuMillisLimit?: number;
  readonly memoryBytesRequest?: number;
  readonly memoryBytesLimit?: number;
}

export interface SecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly readOnlyRootFilesystem?: boolean;
  /** Defaults to false. */
  readonly privileged?: boolean;
}

export interface ImageSpec {
  /** An image reference as written in the pod spec (`busybox`, `docker.io/library/busybox:1.36`, `sha256:…`). */
  readonly image: string;
}

export interface ContainerConfig {
  readonly metadata: ContainerMetadata;
  readonly image: ImageSpec;
  /** Entrypoint override (Kubernetes `command`); absent: the image's. */
  readonly command?: readonly string[];
  /** Arguments (Kubernetes `args`); absent: the image's. */
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly envs?: readonly KeyValue[];
  readonly mounts?: readonly Mount[];
  /** Identifying labels, used by filters (the kubelet puts pod uid and container name here). */
  readonly labels: Readonly<Record<string, string>>;
  /** Opaque to the runtime; returned as given (the kubelet keeps its restart bookkeeping here). */
  readonly annotations: Readonly<Record<string, string>>;
  /**
   * Log file path relative to the sandbox's `logDirectory` (kubelet: `<name>/<attempt>.log`). Needs
   * `logDirectory` on the sandbox; no `..` segments. Absent: the container's output is discarded.
   */
  readonly logPath?: string;
  readonly stdin?: boolean;
  readonly stdinOnce?: boolean;
  readonly tty?: boolean;
  readonly resources?: ContainerResources;
  readonly securityContext?: SecurityContext;
}

export type ContainerState = "CREATED" | "RUNNING" | "EXITED" | "UNKNOWN";

/**
 * Why a container ended, in the kubelet's words: `Completed` (exit 0), `Error` (non-zero, also
 * after SIGKILL: 137), `OOMKilled` (137, memory limit), `ContainerCannotRun` (the start itself failed).
 */
export type ContainerExitReason = "Completed" | "Error" | "OOMKilled" | "ContainerCannotRun";

/** One container as listed. */
export interface Container {
  readonly id: string;
  readonly podSandboxId: string;
  readonly metadata: ContainerMetadata;
  readonly image: ImageSpec;
  /** The resolved image id (`sha256:…`). */
  readonly imageRef: string;
  readonly state: ContainerState;
  readonly createdAt: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ContainerStatus extends Container {
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** Set once EXITED. */
  readonly exitCode?: number;
  /** Set once EXITED. */
  readonly reason?: ContainerExitReason;
  /** Human detail (e.g. why the start failed). */
  readonly message?: string;
  /** Absolute log path (sandbox `logDirectory` + container `logPath`); absent when not logged. */
  readonly logPath?: string;
  readonly mounts: readonly Mount[];
  readonly resources?: ContainerResources;
}

export interface ContainerFilter {
  readonly id?: string;
  readonly podSandboxId?: string;
  readonly state?: ContainerState;
  /** Every pair must be present in the container's labels (AND). */
  readonly labelSelector?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Images

export interface AuthConfig {
  readonly username?: string;
  readonly password?: string;
  readonly auth?: string;
  readonly serverAddress?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

export interface Image {
  /** Content id, `sha256:<64 hex>`; this is the `imageRef` of containers using it. */
  readonly id: string;
  /** Normalized names (`docker.io/library/busybox:latest`). */
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  /** Bytes. */
  readonly size: number;
}

// ---------------------------------------------------------------------------------------------
// Streaming (exec / attach / port-forward), shaped for the remotecommand protocol

/** Where output goes; a returned promise is backpressure (the runtime awaits it before writing more). */
export interface ByteSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** The client side of an exec/attach: what the remotecommand handler plugs in. */
export interface StreamIO {
  /** Bytes for the process's stdin; the iterable ending is EOF (Ctrl-D). Absent: no stdin. */
  readonly stdin?: AsyncIterable<Uint8Array>;
  /** Absent: stdout discarded. */
  readonly stdout?: ByteSink;
  /** Absent: stderr discarded. Ignored with `tty` (a terminal has one output stream, stderr goes to stdout). */
  readonly stderr?: ByteSink;
  /** Allocate a terminal. */
  readonly tty: boolean;
}

export interface ExitStatus {
  /** The process's exit code (128+N when killed by signal N). */
  readonly exitCode: number;
  /** Human detail when the runtime itself ended the session. */
  readonly message?: string;
}

/**
 * A running exec/attach. `exit` resolves once the process has ended and all its output was written
 * to the sinks (what remotecommand sends as the final Status: Success, or Failure/NonZeroExitCode).
 */
export interface StreamSession {
  readonly exit: Promise<ExitStatus>;
  /** Terminal resize (tty only; ignored otherwise). */
  resize(size: TerminalSize): void;
  /** The client went away: stop feeding the process and release the session (exec'd process is killed). */
  close(): void;
}

/** A bidirectional byte stream (port-forward). `end()` half-closes our side. */
export interface ByteDuplex {
  readonly readable: AsyncIterable<Uint8Array>;
  write(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
  /** Tears both directions down. */
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// Events, version, status

export type ContainerEventType = "CREATED" | "STARTED" | "STOPPED" | "DELETED";

/** A container lifecycle event (CRI `ContainerEventResponse`, trimmed); PLEG-style input for pod workers. */
export interface ContainerEvent {
  readonly type: ContainerEventType;
  readonly containerId: string;
  readonly podSandboxId: string;
  /** The pod uid of the sandbox, so the kubelet routes it to a pod worker without a lookup. */
  readonly podUid: string;
  readonly createdAt: number;
}

export interface VersionInfo {
  /** The CRI-level API version (`v1`). */
  readonly runtimeApiVersion: string;
  readonly runtimeName: string;
  readonly runtimeVersion: string;
}

export type RuntimeConditionType = "RuntimeReady" | "NetworkReady";

export interface RuntimeCondition {
  readonly type: RuntimeConditionType;
  readonly status: boolean;
  readonly reason?: string;
  readonly message?: string;
}

export interface RuntimeStatus {
  /** Always both `RuntimeReady` and `NetworkReady`. */
  readonly conditions: readonly RuntimeCondition[];
}

// ---------------------------------------------------------------------------------------------
// Usage statistics (CRI `ContainerStats`, trimmed to CPU and memory)

export interface CpuUsage {
  /** When the figures were read, epoch ms on the runtime's clock. */
  readonly timestamp: number;
  /** CPU time the container used since it started, all cores, in nanoseconds (monotonic while it runs). */
  readonly usageCoreNanoSeconds: number;
}

export interface MemoryUsage {
  /** When the figures were read, epoch ms on the runtime's clock. */
  readonly timestamp: number;
  /** Memory that cannot be reclaimed (usage minus inactive file cache), bytes: what the kubelet evicts and OOM-kills on. */
  readonly workingSetBytes: number;
  /** Anonymous + swap-cache memory (or the resident set size where no cgroup is used), bytes. */
  readonly rssBytes: number;
  /** Total memory in use including page cache, bytes (where known; else equal to the working set). */
  readonly usageBytes: number;
}

/** Usage of one container (figures are 0 for a container that is not RUNNING). */
export interface ContainerStats {
  readonly id: string;
  readonly podSandboxId: string;
  readonly metadata: ContainerMetadata;
  readonly labels: Readonly<Record<string, string>>;
  readonly cpu: CpuUsage;
  readonly memory: MemoryUsage;
}

// ---------------------------------------------------------------------------------------------
// Capabilities

/**
 * What a runtime can do. `false` is a declaration: the operation rejects `Unimplemented` (or
 * `events` is absent), and the conformance suite checks exactly that.
 */
export interface RuntimeCapabilities {
  readonly exec: boolean;
  /** exec with stdin (`cat`). */
  readonly execStdin: boolean;
  /** exec with a terminal (stderr merged into stdout). */
  readonly execTty: boolean;
  readonly attach: boolean;
  readonly portForward: boolean;
  /** `events()` is implemented. */
  readonly events: boolean;
  /** OOM kills can be produced (`recipes.oom`). */
  readonly oomKill: boolean;
}

// ---------------------------------------------------------------------------------------------
// The port

export interface ImageService {
  /**
   * Pulls `image` (if not present) and returns its id (`sha256:…`), the `imageRef` of containers.
   * Idempotent: pulling a present image returns its id. Rejects `ErrImagePull` when the image
   * cannot be fetched (message says why), `InvalidArgument` on a malformed reference.
   */
  pullImage(image: ImageSpec, auth?: AuthConfig): Promise<string>;
  /** The image by any of its names or its id; `undefined` when not present. `InvalidArgument` on a malformed reference. */
  imageStatus(image: ImageSpec): Promise<Image | undefined>;
  listImages(): Promise<Image[]>;
  /**
   * Removes the image. Idempotent (no error when not present). `FailedPrecondition` while a
   * container that is not removed still uses it.
   */
  removeImage(image: ImageSpec): Promise<void>;
  /**
   * Optional, default false. True when `pullImage` fetches from a registry (docker). Runtimes that
   * resolve image names on this machine (process, hollow) leave it unset: their "pull" is a local
   * lookup, which `imagePullPolicy: Never` may still do. With it set, an image absent under `Never`
   * is upstream's `ErrImageNeverPull` and nothing is pulled.
   */
  readonly pullsFromRegistry?: boolean;
}

export interface RuntimeService extends ImageService {
  /** Runtime name and versions. */
  version(): Promise<VersionInfo>;
  /** RuntimeReady / NetworkReady conditions; pods are only started while both are true. */
  status(): Promise<RuntimeStatus>;

  /**
   * Creates and starts a sandbox; resolves with its id once it is READY with a network.
   * Rejects `AlreadyExists` while a sandbox with the same metadata (namespace, name, uid,
   * attempt) exists (in any state), `InvalidArgument` on a bad config.
   */
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /**
   * Kills every running container of the sandbox at once (SIGKILL; the kubelet stops them
   * gracefully before), releases the network, state NOTREADY. Idempotent, including unknown ids.
   */
  stopPodSandbox(id: string): Promise<void>;
  /** Stops (as above) and removes the sandbox and all its containers. Idempotent, including unknown ids. */
  removePodSandbox(id: string): Promise<void>;
  /** Rejects `NotFound` for an unknown id. */
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  /**
   * Creates a container (state CREATED) in a READY sandbox. `sandboxConfig` is the config the
   * sandbox was run with (the CRI passes it again; runtimes may read hints from it).
   * Rejects `NotFound` (unknown sandbox), `FailedPrecondition` (sandbox NOTREADY),
   * `AlreadyExists` ((name, attempt) taken in the sandbox), `ImageNotFound` (image not present:
   * pull first), `InvalidArgument` (bad config, e.g. `logPath` without a sandbox `logDirectory`).
   */
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  /**
   * Starts a CREATED container; resolves once it is RUNNING (it may exit right after).
   * Rejects `NotFound`, `FailedPrecondition` (not CREATED). If the process cannot be started the
   * container becomes EXITED with reason `ContainerCannotRun` (exit code 128) and the call rejects
   * `FailedPrecondition` with the runtime's message.
   */
  startContainer(id: string): Promise<void>;
  /**
   * Graceful stop: SIGTERM, then SIGKILL once `timeoutSeconds` (>= 0; 0 = kill at once) have
   * passed without an exit. Resolves when the container is EXITED. A CREATED or EXITED container
   * is left as it is. Rejects `NotFound` for an unknown id.
   */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Kills the container if running and removes it. Idempotent, including unknown ids. Log files stay (the kubelet owns them). */
  removeContainer(id: string): Promise<void>;
  /** Rejects `NotFound` for an unknown id. */
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;

  /**
   * Runs `cmd` in a RUNNING container. Resolves once the process is started; see `StreamSession`.
   * Rejects `NotFound`, `FailedPrecondition` (not running), `InvalidArgument` (empty cmd),
   * `Unimplemented` when the runtime cannot exec.
   */
  exec(containerId: string, cmd: readonly string[], io: StreamIO): Promise<StreamSession>;
  /**
   * Attaches to the main process of a RUNNING container: its output from now on, stdin if the
   * container was created with `stdin`. `exit` resolves with the container's exit code.
   * Rejects like `exec`.
   */
  attach(containerId: string, io: StreamIO): Promise<StreamSession>;
  /**
   * A byte stream to TCP `port` inside the sandbox's network. Rejects `NotFound`,
   * `FailedPrecondition` (sandbox NOTREADY), `Unavailable` (nothing listens), `Unimplemented`.
   */
  portForward(podSandboxId: string, port: number): Promise<ByteDuplex>;

  /**
   * CPU and memory usage of one container (CRI `ContainerStats`). Rejects `NotFound` for an
   * unknown id; a container that is not RUNNING reports zeros.
   */
  containerStats(containerId: string): Promise<ContainerStats>;
  /** Usage of the RUNNING containers matching `filter` (CRI `ListContainerStats`). */
  listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]>;

  /**
   * Container lifecycle events from now on (absent when the runtime cannot push events: the
   * kubelet then relists). Each call is an independent subscription; breaking out of the loop
   * unsubscribes. A consumer that falls too far behind gets a `RuntimeError("Unavailable")` from
   * the iterator: it must relist and subscribe again. The iterator ends when the client is closed.
   */
  events?(): AsyncIterable<ContainerEvent>;

  /**
   * Releases this client (subscriptions end, further calls reject `Unavailable`). Containers keep
   * running: the runtime's state outlives the agent, and a new client sees it again.
   */
  close(): Promise<void>;
}
