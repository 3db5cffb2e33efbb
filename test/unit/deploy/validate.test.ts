/** Every rendered object validates offline against the Kubernetes and KEDA schemas. */
import assert from "node:assert/strict";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ServiceAccount } from "kubernetes-models/v1";
import { BASE, ENVIRONMENTS } from "../../../src/deploy/environments.js";
import { applyPatch, jsonEqual } from "../../../src/deploy/patch.js";
import { manifests, overlayPatches, type Manifest } from "../../../src/deploy/render.js";

interface Validatable {
  validate(): void;
}

/** kind to a validating model; the Prometheus operator kinds are checked structurally below. */
const MODELS: Record<string, (object: Manifest) => Validatable> = {
  ServiceAccount: (o) => new ServiceAccount(o),
  Deployment: (o) => new Deployment(o),
  PodDisruptionBudget: (o) => new PodDisruptionBudget(o),
  NetworkPolicy: (o) => new NetworkPolicy(o),
  ScaledObject: (o) => new ScaledObject(o as unknown as ConstructorParameters<typeof ScaledObject>[0]),
  TriggerAuthentication: (o) =>
    new TriggerAuthentication(o as unknown as ConstructorParameters<typeof TriggerAuthentication>[0]),
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DURATION = /^\d+[smh]$/;

function validatePrometheusObject(object: Manifest): void {
  const o = object as unknown as { apiVersion: string; spec: Record<string, unknown> };
  assert.equal(o.apiVersion, "monitoring.coreos.com/v1");
  if (object.kind === "PodMonitor") {
    const spec = o.spec as {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: { port: string; path: string; interval: string }[];
    };
    assert.ok(Object.keys(spec.selector.matchLabels).length > 0);
    assert.ok(spec.podMetricsEndpoints.length > 0);
    for (const e of spec.podMetricsEndpoints) {
      assert.match(e.port, DNS_LABEL);
      assert.match(e.path, /^\//);
      assert.match(e.interval, DURATION);
    }
    return;
  }
  const spec = o.spec as { groups: { name: string; rules: Record<string, unknown>[] }[] };
  assert.ok(spec.groups.length > 0);
  for (const group of spec.groups) {
    assert.ok(group.name.length > 0);
    for (const rule of group.rules) {
      assert.deepEqual(Object.keys(rule).sort(), ["alert", "annotations", "expr", "for", "labels"]);
      assert.match(String(rule.alert), /^[A-Za-z_][A-Za-z0-9_]*$/);
      assert.match(String(rule.for), DURATION);
      const expr = String(rule.expr);
      assert.equal(
        [...expr].filter((c) => c === "(").length,
        [...expr].filter((c) => c === ")").length,
        expr,
      );
    }
  }
}

function validate(object: Manifest): void {
  assert.match(object.metadata.name, DNS_LABEL, `${object.kind} name`);
  const model = MODELS[object.kind];
  if (model) model(object).validate();
  else if (object.kind === "PodMonitor" || object.kind === "PrometheusRule") validatePrometheusObject(object);
  else assert.fail(`no validator for kind ${object.kind}`);
}

describe("rendered manifests validate offline", () => {
  for (const env of [BASE, ...ENVIRONMENTS]) {
    it(`${env.name}: every object validates against its schema`, () => {
      const objects = manifests(env);
      assert.ok(objects.length >= 10);
      for (const object of objects) {
        assert.doesNotThrow(() => validate(object), `${env.name}: ${object.kind}/${object.metadata.name}`);
      }
    });
  }

  for (const env of ENVIRONMENTS) {
    it(`${env.name}: the overlay's patches turn the base into exactly the environment's objects`, () => {
      const base = manifests(BASE);
      const wanted = manifests(env);
      const patches = overlayPatches(env);
      const built = base.map((object) => {
        const patch = patches.find(
          (p) => p.target.kind === object.kind && p.target.metadata.name === object.metadata.name,
        );
        return patch ? applyPatch(object, patch.operations) : object;
      });
      assert.ok(jsonEqual(built, wanted));
    });
  }

  it("rejects an object that breaks the schema (the validator is live)", () => {
    const deployment = manifests().find((o) => o.kind === "Deployment")!;
    const broken = structuredClone(deployment) as unknown as {
      spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
    };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = "http";
    assert.throws(() => validate(broken as unknown as Manifest), /containerPort/);
  });
});
