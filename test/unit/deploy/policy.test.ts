/** Policy checks on the rendered objects, one block per requirement of issue 8. */
import assert from "node:assert/strict";
import type { IScaledObject, ITriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { Container, ServiceAccount } from "kubernetes-types/core/v1.js";
import type { NetworkPolicy } from "kubernetes-types/networking/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { CONSUMER_GROUPS } from "../../../src/deploy/groups.js";
import { BASE, ENVIRONMENTS, MONITORING } from "../../../src/deploy/environments.js";
import { RUN_AS_ID, HTTP_PORT } from "../../../src/deploy/names.js";
import { manifests, type Manifest } from "../../../src/deploy/render.js";
import { DEFAULT_LOCK_DURATION_MS, TELEMETRY_FLUSH_MS } from "../../../src/deploy/timing.js";
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_SESSION_ACCEPT_TIMEOUT_MS } from "../../../src/worker/config.js";
import { resolvePolicy, subscriptionKeys, type SubscriptionDefinition } from "../../../src/topics/dsl.js";
import { topology } from "../../../src/topics/index.js";
import { createReferenceHandlers } from "../../../src/handlers/index.js";
import { loadConfig, selectSubscriptions } from "../../../src/worker/config.js";
import { withJobControl } from "../../../src/worker/jobs/cancel.js";

const objects = manifests(BASE);
const ofKind = <T>(kind: string): (T & Manifest)[] =>
  objects.filter((o) => o.kind === kind) as (T & Manifest)[];
const deployments = ofKind<Deployment>("Deployment");
const worker = (d: Deployment): Container => d.spec!.template.spec!.containers[0]!;
const env = (d: Deployment, name: string): string | undefined =>
  worker(d).env?.find((e) => e.name === name)?.value;
const subscriptionsOf = (d: Deployment): string[] => (env(d, "SBW_SUBSCRIPTIONS") ?? "").split(",");
/** What the worker consumes by default: the reference handlers plus the built-in cancel handler. */
const workerSubscriptions = (): string[] =>
  withJobControl(createReferenceHandlers({ cwd: "/tmp" }), () => undefined).subscriptions();
const definition = (key: string): SubscriptionDefinition => {
  const [topic = "", sub = ""] = key.split("/");
  return topology[topic as keyof typeof topology].subscriptions[sub as never];
};

describe("deployment policy", () => {
  describe("workload identity", () => {
    it("annotates the ServiceAccount with the identity's client id, in every environment", () => {
      for (const e of [BASE, ...ENVIRONMENTS]) {
        const [sa] = manifests(e).filter((o) => o.kind === "ServiceAccount") as (ServiceAccount & Manifest)[];
        assert.equal(sa?.metadata.annotations?.["azure.workload.identity/client-id"], e.workloadClientId);
        assert.match(e.workloadClientId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }
    });

    it('labels every pod azure.workload.identity/use: "true" and runs it as that ServiceAccount', () => {
      const [sa] = ofKind<ServiceAccount>("ServiceAccount");
      for (const d of deployments) {
        assert.equal(d.spec!.template.metadata!.labels!["azure.workload.identity/use"], "true");
        assert.equal(d.spec!.template.spec!.serviceAccountName, sa!.metadata.name);
      }
    });

    it("has no Service Bus secret: the namespace by name, never a connection string", () => {
      for (const d of deployments) {
        assert.match(env(d, "SERVICEBUS_NAMESPACE") ?? "", /^[a-z0-9-]+\.servicebus\.windows\.net$/);
        assert.equal(env(d, "SERVICEBUS_CONNECTION_STRING"), undefined);
        const fromSecrets = (worker(d).env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
        assert.deepEqual(
          fromSecrets,
          ["REDIS_URL", "SBW_SMTP_URL"],
          `${d.metadata.name}: only URLs with keys`,
        );
        const smtp = worker(d).env?.find((e) => e.name === "SBW_SMTP_URL");
        assert.equal(smtp?.valueFrom?.secretKeyRef?.optional, true, "no SMTP secret: the outbox");
      }
    });

    it("shares the Redis ledger across replicas, its URL read from a Secret, never inline", () => {
      for (const d of deployments) {
        assert.equal(env(d, "SBW_LEDGER"), "redis", d.metadata.name);
        const url = worker(d).env?.find((e) => e.name === "REDIS_URL");
        assert.equal(url?.value, undefined, "no literal URL (it carries the access key)");
        assert.deepEqual(url?.valueFrom?.secretKeyRef, { name: "sbworker-redis", key: "url" });
      }
    });
  });

  describe("a Deployment per consumer group", () => {
    it("renders one Deployment per group, each selecting its subscriptions with SBW_SUBSCRIPTIONS", () => {
      assert.equal(deployments.length, CONSUMER_GROUPS.length);
      for (const [i, group] of CONSUMER_GROUPS.entries()) {
        assert.deepEqual(subscriptionsOf(deployments[i]!), group.subscriptions);
      }
    });

    it("consumes every subscription the worker has handlers for in exactly one group", () => {
      const consumed = deployments.flatMap(subscriptionsOf).sort();
      assert.deepEqual(consumed, workerSubscriptions().sort());
      assert.ok(consumed.includes("job-control/cancel"), "the built-in cancel handler runs somewhere");
      for (const key of subscriptionKeys(topology)) {
        if (!consumed.includes(key)) assert.ok(!workerSubscriptions().includes(key), key);
      }
    });

    it("sets SBW_SUBSCRIPTIONS that the worker's configuration accepts", () => {
      const withHandlers = workerSubscriptions();
      for (const d of deployments) {
        const config = loadConfig({
          SBW_SUBSCRIPTIONS: env(d, "SBW_SUBSCRIPTIONS"),
          SBW_HTTP_PORT: env(d, "SBW_HTTP_PORT"),
        });
        assert.deepEqual(
          selectSubscriptions(topology, withHandlers, config).map((b) => b.key),
          subscriptionsOf(d),
        );
        assert.equal(config.http.port, HTTP_PORT);
      }
    });

    it("probes /livez (liveness, startup) and /readyz (readiness) on the worker's HTTP port", () => {
      for (const d of deployments) {
        const c = worker(d);
        const port = c.ports?.find((p) => p.containerPort === Number(env(d, "SBW_HTTP_PORT")));
        assert.ok(port?.name, "the HTTP port is declared and named");
        assert.deepEqual(c.livenessProbe?.httpGet, { path: "/livez", port: port.name });
        assert.deepEqual(c.startupProbe?.httpGet, { path: "/livez", port: port.name });
        assert.deepEqual(c.readinessProbe?.httpGet, { path: "/readyz", port: port.name });
      }
    });

    it("requests CPU and memory and limits memory (no CPU limit: throttling would stall lock renewal)", () => {
      for (const e of [BASE, ...ENVIRONMENTS]) {
        for (const d of manifests(e).filter((o) => o.kind === "Deployment") as Deployment[]) {
          const r = worker(d).resources!;
          assert.ok(r.requests?.cpu && r.requests.memory && r.limits?.memory, d.metadata!.name);
          assert.equal(r.limits.cpu, undefined);
        }
      }
    });

    it("runs non-root with a read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp", () => {
      for (const d of deployments) {
        const pod = d.spec!.template.spec!;
        const sc = worker(d).securityContext!;
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        assert.equal(sc.runAsNonRoot, true);
        assert.equal(sc.runAsUser, RUN_AS_ID);
        assert.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0);
        assert.equal(sc.readOnlyRootFilesystem, true);
        assert.equal(sc.allowPrivilegeEscalation, false);
        assert.deepEqual(sc.capabilities?.drop, ["ALL"]);
        assert.equal(sc.capabilities?.add, undefined);
        assert.equal(sc.seccompProfile?.type, "RuntimeDefault");
        assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
      }
    });

    it("mounts an emptyDir at /tmp, the only writable path, where the handlers write", () => {
      for (const d of deployments) {
        const pod = d.spec!.template.spec!;
        const mount = worker(d).volumeMounts?.find((m) => m.mountPath === "/tmp");
        assert.ok(mount);
        assert.ok(pod.volumes?.find((v) => v.name === mount.name)?.emptyDir);
        for (const name of ["SBW_OUTBOX_DIR", "SBW_REPORTS_DIR"])
          assert.match(env(d, name) ?? "", /^\/tmp\//);
      }
    });

    it("spreads pods across zones and nodes", () => {
      for (const d of deployments) {
        const keys = d.spec!.template.spec!.topologySpreadConstraints?.map((c) => c.topologyKey);
        assert.deepEqual(keys, ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
        for (const c of d.spec!.template.spec!.topologySpreadConstraints!) {
          assert.deepEqual(c.labelSelector?.matchLabels, d.spec!.selector.matchLabels);
        }
      }
    });

    it("gives a pod longer to stop than drain timeout + lock duration (or, in a partition, the bounded close steps) + telemetry flush", () => {
      for (const d of deployments) {
        const subs = subscriptionsOf(d).map(definition);
        const drain = Math.max(...subs.map((s) => resolvePolicy(s).drainTimeoutMs));
        const lock = Math.max(...subs.map((s) => s.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS));
        const graceMs = d.spec!.template.spec!.terminationGracePeriodSeconds! * 1000;
        assert.equal(env(d, "SBW_DRAIN_TIMEOUT_MS"), undefined, "the drain timeout comes from the topology");
        assert.ok(
          graceMs > drain + lock + TELEMETRY_FLUSH_MS,
          `${d.metadata.name}: ${graceMs} <= ${drain} + ${lock} + ${TELEMETRY_FLUSH_MS}`,
        );
        // A partition: stopping (scheduler, receivers), abandoning and closing each run to the close
        // timeout (docs/worker.md).
        const closeSteps = 4 * DEFAULT_CLOSE_TIMEOUT_MS + DEFAULT_SESSION_ACCEPT_TIMEOUT_MS;
        assert.ok(
          graceMs > drain + closeSteps + TELEMETRY_FLUSH_MS,
          `${d.metadata.name}: ${graceMs} <= ${drain} + ${closeSteps} + ${TELEMETRY_FLUSH_MS}`,
        );
      }
    });

    it("rolls out without taking a running pod down first, and leaves the replica count to KEDA", () => {
      for (const d of deployments) {
        assert.equal(d.spec!.strategy?.rollingUpdate?.maxUnavailable, 0);
        assert.equal(d.spec!.replicas, undefined, "KEDA owns the replica count");
      }
    });
  });

  describe("disruption budget and network policy", () => {
    it("has a PodDisruptionBudget per Deployment that selects its pods and never blocks a drain", () => {
      const pdbs = ofKind<PodDisruptionBudget>("PodDisruptionBudget");
      assert.equal(pdbs.length, deployments.length);
      for (const d of deployments) {
        const pdb = pdbs.find((p) => p.metadata.name === d.metadata.name);
        assert.deepEqual(pdb?.spec?.selector?.matchLabels, d.spec!.selector.matchLabels);
        assert.equal(pdb?.spec?.maxUnavailable, 1);
      }
    });

    it("limits egress to DNS, the OTLP collector and TLS/AMQPS/Redis-TLS to public addresses", () => {
      const [policy] = ofKind<NetworkPolicy>("NetworkPolicy");
      const spec = policy!.spec!;
      assert.deepEqual(spec.policyTypes, ["Ingress", "Egress"]);
      for (const d of deployments) {
        for (const [k, v] of Object.entries(spec.podSelector.matchLabels ?? {})) {
          assert.equal(d.spec!.template.metadata!.labels![k], v, "the policy selects every worker pod");
        }
      }
      const allowed = new Set([53, 443, 465, 587, 5671, 6380, ...MONITORING.collectorPorts]);
      for (const rule of spec.egress ?? []) {
        assert.ok(rule.ports?.length, "every egress rule names its ports");
        assert.ok(rule.to?.length, "every egress rule names its peers");
        for (const p of rule.ports) assert.ok(allowed.has(Number(p.port)), `egress port ${p.port}`);
        for (const peer of rule.to) {
          if (peer.ipBlock?.cidr === "0.0.0.0/0") {
            assert.ok(
              peer.ipBlock.except?.includes("10.0.0.0/8") && peer.ipBlock.except.includes("169.254.0.0/16"),
            );
            const ports = rule.ports.map((p) => Number(p.port)).sort((a, b) => a - b);
            assert.ok(
              [
                [443, 5671, 6380],
                [465, 587],
              ].some((allowedSet) => JSON.stringify(allowedSet) === JSON.stringify(ports)),
              `public egress ports ${ports.join(",")}`,
            );
          }
        }
      }
      const dns = spec.egress!.find((r) => r.ports!.some((p) => p.port === 53));
      assert.deepEqual(dns?.ports?.map((p) => p.protocol).sort(), ["TCP", "UDP"]);
    });

    it("admits ingress only to the HTTP port, only from the monitoring namespace", () => {
      const [policy] = ofKind<NetworkPolicy>("NetworkPolicy");
      const ingress = policy!.spec!.ingress!;
      assert.equal(ingress.length, 1);
      assert.deepEqual(ingress[0]!.ports, [{ protocol: "TCP", port: HTTP_PORT }]);
      assert.deepEqual(ingress[0]!.from, [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING.namespace } } },
      ]);
    });
  });

  describe("KEDA", () => {
    const scaled = ofKind<IScaledObject>("ScaledObject");
    const auth = ofKind<ITriggerAuthentication>("TriggerAuthentication");

    it("has a ScaledObject per Deployment with an azure-servicebus trigger per subscription", () => {
      assert.equal(scaled.length, deployments.length);
      for (const d of deployments) {
        const so = scaled.find((s) => s.spec.scaleTargetRef.name === d.metadata.name);
        assert.ok(so, d.metadata.name);
        assert.equal(so.spec.scaleTargetRef.kind, "Deployment");
        const namespace = (env(d, "SERVICEBUS_NAMESPACE") ?? "").split(".")[0];
        const triggers = so.spec.triggers;
        assert.deepEqual(
          triggers.map((t) => `${t.metadata.topicName}/${t.metadata.subscriptionName}`),
          subscriptionsOf(d),
        );
        for (const t of triggers) {
          assert.equal(t.type, "azure-servicebus");
          assert.deepEqual(Object.keys(t.metadata).sort(), [
            "activationMessageCount",
            "messageCount",
            "namespace",
            "subscriptionName",
            "topicName",
          ]);
          assert.equal(t.metadata.namespace, namespace);
          assert.match(t.metadata.messageCount!, /^[1-9]\d*$/);
          assert.match(t.metadata.activationMessageCount!, /^\d+$/);
          assert.equal(t.authenticationRef?.name, auth[0]!.metadata.name);
        }
      }
    });

    it("authenticates KEDA with Azure workload identity, through its own identity", () => {
      assert.equal(auth.length, 1);
      assert.equal(auth[0]!.spec.podIdentity?.provider, "azure-workload");
      for (const e of ENVIRONMENTS) {
        const ta = manifests(e).find((o) => o.kind === "TriggerAuthentication") as ITriggerAuthentication;
        assert.equal(ta.spec.podIdentity?.identityId, e.scalerClientId);
        assert.notEqual(e.scalerClientId, e.workloadClientId, "the worker's identity gets no Manage rights");
      }
    });

    it("derives messageCount from maxConcurrentSessions for session subscriptions, concurrency otherwise", () => {
      let sessions = 0;
      for (const so of scaled) {
        for (const t of so.spec.triggers) {
          const def = definition(`${t.metadata.topicName}/${t.metadata.subscriptionName}`);
          const policy = resolvePolicy(def);
          const expected = def.requiresSession ? policy.maxConcurrentSessions : policy.concurrency;
          if (def.requiresSession) sessions += 1;
          assert.equal(t.metadata.messageCount, String(expected));
        }
      }
      assert.ok(sessions > 0, "the reference topology has a session subscription");
    });

    it("sets min/max replicas and a cooldown, and scales down more slowly than up", () => {
      for (const so of scaled) {
        const { minReplicaCount: min, maxReplicaCount: max } = so.spec;
        assert.ok(min !== undefined && max !== undefined && min >= 0 && max >= Math.max(1, min));
        assert.ok((so.spec.cooldownPeriod ?? 0) >= 60);
        const behavior = so.spec.advanced!.horizontalPodAutoscalerConfig!.behavior!;
        const up = behavior.scaleUp!;
        const down = behavior.scaleDown!;
        assert.ok(down.stabilizationWindowSeconds! > (up.stabilizationWindowSeconds ?? 0));
        const podsPerSecond = (rules: typeof up) =>
          Math.max(...rules.policies!.filter((p) => p.type === "Pods").map((p) => p.value / p.periodSeconds));
        assert.ok(podsPerSecond(down) < podsPerSecond(up));
        assert.ok(
          down.policies!.every((p) => p.type === "Pods" && p.value === 1),
          "one pod at a time",
        );
      }
    });

    it("runs exactly one replica of each group in dev", () => {
      const dev = ENVIRONMENTS.find((e) => e.name === "dev")!;
      for (const so of manifests(dev).filter((o) => o.kind === "ScaledObject") as IScaledObject[]) {
        assert.equal(so.spec.minReplicaCount, 1);
        assert.equal(so.spec.maxReplicaCount, 1);
      }
    });
  });

  it("rejects a misspelt field at compile time (typed with kubernetes-types)", () => {
    const pod: NonNullable<Deployment["spec"]>["template"] = {
      // @ts-expect-error `terminationGracePeriod` is not a PodSpec field
      spec: { containers: [], terminationGracePeriod: 30 },
    };
    assert.ok(pod);
  });
});
