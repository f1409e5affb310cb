/** The disruption controller (PodDisruptionBudget status). */
export { DisruptionController, NAME, newDisruptionController, PDBS } from "./controller.ts";
export {
  computeStatus, countHealthy, DELETION_TIMEOUT_MS, expectedCounts, failSafeStatus, liveDisruptions, needsScale, scaledValue, setAllowedCondition,
  type BudgetSpec, type BudgetStatus, type Condition, type IntOrString,
} from "./budget.ts";
