/** The Job controller. */
export { NAME, newJobController, JobController } from "./controller.ts";
export * from "./job.ts";
