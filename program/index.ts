/**
 * The program's public parts, for other stacks: the stack-config parser (every problem at once,
 * naming each key), the mapping from a parsed config to the platform component's arguments, and
 * the offline plan runner.
 */
export * from "./config";
export * from "./config-reader";
export { asRunError, readRawConfig, readSecretPaths } from "./load";
export * from "./secure-leaves";
export { comparePlans, destructiveChanges } from "./plan/compare";
export type { ResourceChange } from "./plan/compare";
export { EXIT_BUG, EXIT_INVALID, EXIT_OK, EXIT_POLICY, runPlan, summaryLine } from "./plan/run-plan";
export type { PlanOptions, PlanResult } from "./plan/run-plan";
