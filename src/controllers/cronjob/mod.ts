/** The CronJob controller and the cron schedule parser. */
export { NAME, newCronJobController, CronJobController, finishedAs, jobFromTemplate, jobName, jobsToPrune, SCHEDULED_TIMESTAMP } from "./controller.ts";
export * from "./schedule.ts";
