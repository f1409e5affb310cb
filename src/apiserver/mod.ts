/** The apiserver: `createApiServer` and the pieces other components may reuse. */
export { createApiServer } from "./server.ts";
export type { ApiServer, ApiServerOptions } from "./server.ts";
export { defaultVersion } from "./discovery.ts";
export type { VersionInfo } from "./discovery.ts";
export { MAX_BODY_BYTES } from "./body.ts";
