/**
 * The worker's NetworkPolicy: deny everything but what it needs.
 * - ingress: the HTTP port (health and `/metrics`) from the monitoring namespace only; the
 *   kubelet's probes come from the node and are not subject to NetworkPolicy;
 * - egress: DNS to kube-dns; OTLP to the collector; TLS (443: Microsoft Entra ID token exchange,
 *   AMQP over WebSockets, management), AMQPS (5671) and Redis over TLS (6380: Azure Cache for
 *   Redis, the ledger) to public addresses only (none of these services has stable IP ranges that
 *   a NetworkPolicy could name; an FQDN-aware egress firewall narrows this further), plus the
 *   private endpoint subnets an environment names; SMTP submission (465/587) to public addresses.
 */
import type { NetworkPolicy, NetworkPolicyPort } from "kubernetes-types/networking/v1.js";
import type { Environment } from "./environments.js";
import { MONITORING, REDIS_TLS_PORT, SMTP_PORTS } from "./environments.js";
import { APP, appLabels, HTTP_PORT } from "./names.js";
import type { Rendered } from "./workload.js";

/** Ports the worker may open connections to (Redis: the shared idempotency ledger, over TLS). */
export const EGRESS_PORTS = { dns: 53, https: 443, amqps: 5671, redis: REDIS_TLS_PORT } as const;

/** Never reachable on 443/5671 through the public rule: cluster and private ranges, link-local (IMDS). */
export const NON_PUBLIC_CIDRS = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  "100.64.0.0/10",
];

const tcp = (port: number): NetworkPolicyPort => ({ protocol: "TCP", port });
const namespaceSelector = (name: string) => ({ matchLabels: { "kubernetes.io/metadata.name": name } });

export function networkPolicy(env: Environment): Rendered<NetworkPolicy> {
  const tls = [tcp(EGRESS_PORTS.https), tcp(EGRESS_PORTS.amqps), tcp(EGRESS_PORTS.redis)];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: APP, labels: appLabels() },
    spec: {
      podSelector: { matchLabels: { "app.kubernetes.io/name": APP } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [{ namespaceSelector: namespaceSelector(MONITORING.namespace) }], ports: [tcp(HTTP_PORT)] },
      ],
      egress: [
        {
          to: [
            {
              namespaceSelector: namespaceSelector("kube-system"),
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: EGRESS_PORTS.dns },
            { protocol: "TCP", port: EGRESS_PORTS.dns },
          ],
        },
        {
          to: [
            {
              namespaceSelector: namespaceSelector(MONITORING.namespace),
              podSelector: { matchLabels: { ...MONITORING.collectorPodLabels } },
            },
          ],
          ports: MONITORING.collectorPorts.map(tcp),
        },
        { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_CIDRS] } }], ports: tls },
        // SMTP submission for the e-mail handler (a relay inside the cluster needs its own rule).
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_CIDRS] } }],
          ports: SMTP_PORTS.map(tcp),
        },
        ...(env.privateEndpointCidrs.length
          ? [{ to: env.privateEndpointCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: tls }]
          : []),
      ],
    },
  };
}
