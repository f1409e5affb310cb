/** The TTL-after-finished controller. */
export { expiresAt, finishedAt, NAME, newTtlAfterFinishedController, TtlAfterFinishedController } from "./controller.ts";
