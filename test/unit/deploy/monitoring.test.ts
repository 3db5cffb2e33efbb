import assert from "node:assert/strict";
import { manifests } from "../../../src/deploy/render.js";
import { METRIC, OUTCOMES, FAILURE_OUTCOMES } from "../../../src/deploy/metric-names.js";
import { ALERTS, type PodMonitor, type PrometheusRule } from "../../../src/deploy/monitoring.js";
import type { Deployment } from "kubernetes-types/apps/v1.js";

const objects = manifests();
const rule = objects.find((o) => o.kind === "PrometheusRule") as unknown as PrometheusRule;
const monitor = objects.find((o) => o.kind === "PodMonitor") as unknown as PodMonitor;
const alerts = rule.spec.groups.flatMap((g) => g.rules);
const expr = (name: string): string => alerts.find((a) => a.alert === name)?.expr ?? "";

describe("monitoring", () => {
  it("names every metric once, in Prometheus style with the sbworker_ prefix", () => {
    const names = Object.values(METRIC);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^sbworker_[a-z_]+[a-z]$/);
    for (const name of names.filter((n) => n.endsWith("_total")))
      assert.ok(!name.includes("seconds_total"), name);
    assert.deepEqual(
      FAILURE_OUTCOMES,
      OUTCOMES.filter((o) => o !== "completed"),
    );
  });

  it("scrapes /metrics on every worker pod's HTTP port", () => {
    const deployment = objects.find((o) => o.kind === "Deployment") as Deployment;
    const port = deployment.spec!.template.spec!.containers[0]!.ports![0]!;
    assert.deepEqual(
      monitor.spec.podMetricsEndpoints.map((e) => [e.port, e.path]),
      [[port.name, "/metrics"]],
    );
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels ?? {})) {
      assert.equal(deployment.spec!.template.metadata!.labels![k], v);
    }
  });

  it("alerts on the six conditions of issue 8, each with a summary and a description", () => {
    assert.deepEqual(alerts.map((a) => a.alert).sort(), Object.values(ALERTS).sort());
    for (const a of alerts) {
      assert.ok(a.annotations.summary && a.annotations.description, a.alert);
      assert.ok(["warning", "critical"].includes(a.labels.severity));
    }
  });

  it("queries the metric each alert is about", () => {
    assert.match(expr(ALERTS.deadLetterGrowth), new RegExp(METRIC.deadLetters));
    assert.match(expr(ALERTS.oldestMessageAge), new RegExp(METRIC.oldestActiveMessageAge));
    assert.match(
      expr(ALERTS.failureRatio),
      new RegExp(`${METRIC.messagesProcessed}\\{outcome=~"${FAILURE_OUTCOMES.join("\\|")}"\\}`),
    );
    assert.match(expr(ALERTS.lockLoss), new RegExp(METRIC.lockLost));
    assert.match(expr(ALERTS.receiveFailing), new RegExp(METRIC.receiveErrors));
    assert.match(expr(ALERTS.ledgerUnavailable), new RegExp(METRIC.ledgerUnavailable));
    assert.match(expr(ALERTS.stalledJobs), new RegExp(METRIC.stalled));
    assert.match(
      expr(ALERTS.podsNotReady),
      /kube_deployment_status_replicas_unavailable\{deployment=~"sbworker-\.\*"\}/,
    );
  });

  it("uses only sbworker metrics from the shared list (plus kube-state-metrics)", () => {
    const known = new Set<string>(Object.values(METRIC));
    for (const a of alerts) {
      for (const name of a.expr.match(/sbworker_[a-z_]+/g) ?? [])
        assert.ok(known.has(name), `${a.alert}: ${name}`);
    }
  });
});
