/** Opens the ledger store chosen by the configuration and starts the job runtime on it. */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { WorkerConfig } from "../config.js";
import { openLedgerStore } from "../ledger/index.js";
import type { LedgerStore } from "../ledger/types.js";
import { JobRuntime, type JobObserver } from "./runtime.js";

export function openStore(config: WorkerConfig, log: Logger): Promise<LedgerStore | undefined> {
  const ledger = config.jobs.ledger;
  log.info(
    { ledger: ledger.kind, ...(ledger.kind === "redis" ? { prefix: ledger.prefix } : {}) },
    "job ledger",
  );
  return openLedgerStore(ledger, (error) => log.warn({ err: error }, "ledger store connection error"));
}

export function startJobRuntime(
  config: WorkerConfig,
  store: LedgerStore | undefined,
  log: Logger,
  observer: Required<JobObserver>,
): Promise<JobRuntime> {
  if (config.jobs.fault) log.warn({ fault: config.jobs.fault }, "TEST-ONLY fault injection is on");
  return JobRuntime.start({
    store,
    // The pod name in Kubernetes: claims in the ledger say which pod holds them.
    instanceId: `${hostname()}-${randomUUID().slice(-12)}`, // 48 random bits: holders are never reused
    settings: {
      leaseMs: config.jobs.leaseMs,
      maxLockRenewalMs: config.maxLockRenewalMs,
      outcomeTtlMs: config.jobs.outcomeTtlMs,
      progressIntervalMs: config.jobs.progressIntervalMs,
      fault: config.jobs.fault,
    },
    log,
    observer,
  });
}
