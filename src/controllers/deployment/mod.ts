/** The Deployment controller. */
export { DeploymentController, NAME, newDeploymentController } from "./controller.ts";
export { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from "./hash.ts";
export * as deploymentutil from "./util.ts";
