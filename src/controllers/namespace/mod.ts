/** The Namespace controller. */
export { deletionConditions, FINALIZER, NAME, NamespaceController, namespacedResources, newNamespaceController } from "./controller.ts";
