/** The ServiceAccount controller. */
export { DEFAULT_ACCOUNT, NAME, newServiceAccountController, ServiceAccountController } from "./controller.ts";
