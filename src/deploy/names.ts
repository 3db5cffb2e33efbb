/** Names, labels, ports and ids shared by the rendered objects, the Dockerfile and their tests. */
import type { ConsumerGroup } from "./groups.js";

export const APP = "sbworker";
/** The worker's HTTP port (`SBW_HTTP_PORT`): `/livez`, `/readyz` and `/metrics`. */
export const HTTP_PORT = 8080;
export const HTTP_PORT_NAME = "http";
export const PATHS = { livez: "/livez", readyz: "/readyz", metrics: "/metrics" } as const;
/** Numeric user and group of the image (`USER 10001:10001` in the Dockerfile). */
export const RUN_AS_ID = 10001;
export const SERVICE_ACCOUNT = APP;
export const TRIGGER_AUTHENTICATION = `${APP}-servicebus`;
/** Writable scratch space; the root filesystem is read-only. */
export const TMP_DIR = "/tmp";

export const WORKLOAD_IDENTITY = {
  clientIdAnnotation: "azure.workload.identity/client-id",
  useLabel: "azure.workload.identity/use",
} as const;

export function workloadName(group: ConsumerGroup): string {
  return `${APP}-${group.name}`;
}

/** Labels every object carries. */
export function appLabels(): Record<string, string> {
  return { "app.kubernetes.io/name": APP, "app.kubernetes.io/part-of": APP };
}

/** The selector of one group's pods (stable: never change it on a live Deployment). */
export function groupSelector(group: ConsumerGroup): Record<string, string> {
  return { "app.kubernetes.io/name": APP, "app.kubernetes.io/component": group.name };
}

export function groupLabels(group: ConsumerGroup): Record<string, string> {
  return { ...appLabels(), "app.kubernetes.io/component": group.name };
}
