/** The EndpointSlice controller and the endpoint facts shared with the Endpoints controller. */
export { EndpointSliceController, NAME, newEndpointSliceController, podsForService, watchServicesAndPods, WriteTracker } from "./controller.ts";
export * from "./endpoints.ts";
export * from "./reconcile.ts";
