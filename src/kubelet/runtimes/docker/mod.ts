/** The docker runtime: pods as Docker containers through dockerode (docs/docker-runtime.md). */
export {
  createDockerRuntime,
  DEFAULT_PAUSE_IMAGE,
  DOCKER_CAPABILITIES,
  DOCKER_RUNTIME_NAME,
  DockerRuntime,
  type DockerRuntimeOptions,
  parseDockerEvent,
} from "./runtime.ts";
export { connectDocker, type DockerClient, parseDockerHost } from "./client.ts";
export { L as DOCKER_LABELS } from "./labels.ts";
