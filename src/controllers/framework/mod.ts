/**
 * The controller framework (public face): the controller contract, runner, shared informers,
 * the narrow writer with its recording fake, events, leader election, expectations, owner
 * references and pod facts. See docs/controllers.md.
 */
export { enqueueObject, RecordingQueue, type Controller, type ControllerContext, type ControllerFactory, type Queue, type SyncResult } from "./controller.ts";
export { ControllerRunner, metricsText, type ControllerMetrics, type RunnerOptions } from "./runner.ts";
export { FakeInformers, NODE_NAME_INDEX, OWNER_UID_INDEX, SharedInformerFactory, STANDARD_INDEXERS, UID_INDEX, type InformerSource } from "./informers.ts";
export { clientWriter, updateStatusRetrying, type DeleteOptions, type ObjectWriter, type PatchType } from "./writer.ts";
export { mergePatch, RecordingWriter, type Reactor, type RecordedCall, type Verb } from "./recording.ts";
export { controllerEventRecorder, FakeRecorder, referenceOf, writerEventSink, type EventRecorder, type EventType, type ObjectReference } from "./events.ts";
export {
  decideLease, DEFAULT_LEADER_ELECTION, LeaderElector, microTime, releasedLease, type LeaderCallbacks, type LeaderElectionConfig, type LeaseDecision, type Observation,
} from "./leaderelection.ts";
export { Expectations } from "./expectations.ts";
export { adoptPatch, claimDecision, controllerOf, controllerRef, isControlledBy, releasePatch, type Claim } from "./ownerrefs.ts";
export { compareForDeletion, isPodActive, isPodAvailable, isPodReady } from "./pods.ts";
export { selectorOf } from "./selector.ts";
export {
  CONTROLLERREVISIONS, CRONJOBS, DAEMONSETS, DEPLOYMENTS, ENDPOINTS, ENDPOINTSLICES, EVENTS, JOBS, kindInfo, LEASES, NAMESPACES, NODES, PODS, PVCS, REPLICASETS, resourceKey,
  SERVICEACCOUNTS, SERVICES, STATEFULSETS, type ResourceId,
} from "./resources.ts";
export {
  CONTROLLER_REVISION_HASH_LABEL, controllerRevisionName, equalRevision, hashRevision, newRevision, nextRevisionNumber, revisionData, sortRevisions, templateOfRevision,
  type ControllerRevisionLike,
} from "./history.ts";
