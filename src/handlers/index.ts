/**
 * The reference domain's handlers. Users replace these (and src/topics) with their own; the
 * worker only needs a `HandlerRegistry`.
 */
import { join } from "node:path";
import { topology, type Topology } from "../topics/index.js";
import { auditHandlers, type AuditSink } from "./orders/audit.js";
import { fulfillmentHandlers } from "./orders/fulfillment.js";
import { emailHandlers } from "./notifications/email.js";
import { outboxTransport, type EmailTransport } from "./notifications/transport.js";
import { defineHandlers, type HandlerRegistry } from "./registry.js";
import { reportHandlers } from "./reports/generate.js";

export interface ReferenceDeps {
  /** Base directory for the outbox and reports (default: the working directory). */
  readonly cwd: string;
  readonly transport?: EmailTransport;
  readonly outboxDir?: string;
  readonly reportsDir?: string;
  readonly reportChunkDelayMs?: number;
  readonly audit?: AuditSink;
}

export function createReferenceHandlers(deps: ReferenceDeps): HandlerRegistry<Topology> {
  const transport = deps.transport ?? outboxTransport(deps.outboxDir ?? join(deps.cwd, "outbox"));
  return defineHandlers(topology, {
    orders: { fulfillment: fulfillmentHandlers, audit: auditHandlers(deps.audit) },
    notifications: { email: emailHandlers(transport) },
    reports: {
      generate: reportHandlers({
        dir: deps.reportsDir ?? join(deps.cwd, "reports"),
        ...(deps.reportChunkDelayMs !== undefined ? { chunkDelayMs: deps.reportChunkDelayMs } : {}),
      }),
    },
  });
}

export * from "./registry.js";
