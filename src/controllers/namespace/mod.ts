/** The Namespace controller. */
export { deletableNamespaced, deletionConditions, FINALIZER, NAME, NamespaceController, namespacedResources, newNamespaceController, type NamespaceDynamic } from "./controller.ts";
