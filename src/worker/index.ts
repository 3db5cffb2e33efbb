/** The worker runtime's public surface. */
export { startWorker, type Worker, type WorkerOptions } from "./worker.js";
export {
  loadConfig,
  selectSubscriptions,
  CONFIG_KEYS,
  type WorkerConfig,
  type SubscriptionBinding,
} from "./config.js";
export { createLogger } from "./logger.js";
export { decideSettlement, type Outcome, type Settlement } from "./policy.js";
export { backoffDelay, backoffCeiling } from "./backoff.js";
export * from "./errors.js";
export { PROPERTY } from "./properties.js";
export type { WorkerObserver, DeliveryEvent } from "./observer.js";
export { Resources } from "./resources.js";
