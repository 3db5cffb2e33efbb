/**
 * The topology: every topic this service publishes to or consumes from. This one map types
 * `publish(topic, subject, payload)` and the handler registry (src/handlers), and generates the
 * emulator's Config.json (`sbworker topology emulator-config`).
 */
import { jobControl } from "./job-control.js";
import { jobEvents } from "./job-events.js";
import { notifications } from "./notifications.js";
import { orders } from "./orders.js";
import { reports } from "./reports.js";

export const topology = {
  orders,
  notifications,
  reports,
  "job-events": jobEvents,
  "job-control": jobControl,
} as const;
export type Topology = typeof topology;

export * from "./dsl.js";
export { toEmulatorConfig, subscriptionRules, REPLAY_RULE_NAME } from "./emulatorConfig.js";
