/** The ReplicaSet controller. */
export { NAME, newReplicaSetController, ReplicaSetController } from "./controller.ts";
export { BURST_REPLICAS, calculateStatus, podFromTemplate, podsToDelete, replicaDiff, slowStartBatches } from "./replicas.ts";
