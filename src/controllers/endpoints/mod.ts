/** The (legacy) Endpoints controller. */
export { EndpointsController, NAME, newEndpointsController } from "./controller.ts";
export * from "./endpoints.ts";
