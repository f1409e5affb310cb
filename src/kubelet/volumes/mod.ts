/** Pod volumes prepared by the node agent: atomic projected files, hostPath checks, the volume manager. */
export { validatePayloadPath, writeAtomic, type FileProjection, type Payload } from "./atomic-writer.ts";
export { checkHostPathType, HOST_PATH_TYPES } from "./hostpath.ts";
export { DEFAULT_MODE, unsignedServiceAccountToken, volumePayload, type PayloadContext } from "./payload.ts";
export { VolumeManager, type SetupResult, type VolumeFailure, type VolumeManagerOptions } from "./manager.ts";
