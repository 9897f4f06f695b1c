/**
 * Helm values for F5's NGINX Ingress Controller (chart `nginx-ingress`). The community
 * `ingress-nginx` was retired in March 2026 and is not used. Keys are those of the chart's
 * values.yaml (nginx/kubernetes-ingress, charts/nginx-ingress), verified for chart 2.4.x.
 */
import { sortDeep } from "../shared/sort";

/** The chart, from F5's OCI registry (docs.nginx.com: "Use Helm to Install NGINX Ingress Controller"). */
export const NGINX_INGRESS_CHART = "oci://ghcr.io/nginx/charts/nginx-ingress";
/** Pinned chart version: 2.6.4 = NGINX Ingress Controller 5.5.4 (Chart.yaml at tag v5.5.4). */
export const DEFAULT_NGINX_INGRESS_CHART_VERSION = "2.6.4";
/** The namespace the controller runs in. */
export const INGRESS_NAMESPACE = "nginx-ingress";
/** The nginx user in F5's image. */
export const NGINX_UID = 101;

/** The controller's memory request (one pod: a DaemonSet on one node). */
export const EDGE_MEMORY_REQUEST = "128Mi";
/** The host ports the controller serves on. */
export const EDGE_HOST_PORTS = { http: 80, https: 443 } as const;

export interface ControllerValuesOptions {
    readonly ingressClass: string;
    readonly nodeSelector: Readonly<Record<string, string>>;
    /**
     * The address the Ingresses report in their status (the host's public address or name).
     * Without a LoadBalancer Service the controller has no other source for it, and the
     * Kubernetes provider waits for `status.loadBalancer.ingress` before an Ingress counts as ready.
     */
    readonly statusAddress: string;
}

/**
 * Exposure: the controller listens on the host's ports 80 and 443 (hostPort), as a DaemonSet.
 *
 * Why not a LoadBalancer Service through K3s's ServiceLB: klipper-lb MASQUERADEs what it
 * forwards (k3s-io/klipper-lb#31), and with `externalTrafficPolicy: Local` it DNATs to the
 * Service's NodePort, which `allocateLoadBalancerNodePorts: false` makes 0. NGINX then saw no
 * client address: the per-client rate limit became one bucket for everyone and the /system
 * allow-list refused all. A hostPort is DNAT by the CNI portmap plugin, which masquerades only
 * hairpin and loopback traffic (containernetworking/plugins portmap README: `snat` "on
 * loopback & hairpin traffic"), so NGINX sees the client's address. hostPort rather than
 * hostNetwork keeps the pod in the pod network, where NetworkPolicy still selects it.
 *
 * A DaemonSet replaces its pod stop-first (maxSurge 0, maxUnavailable 1): a Deployment's
 * surge pod could never bind the ports its predecessor holds on a one-node cluster. No Service
 * is created (`controller.service.create: false`), so nothing waits for a load balancer.
 *
 * `controller.securityContext` stays empty on purpose: the chart then runs nginx as uid 101,
 * non-root, no privilege escalation, all capabilities dropped but NET_BIND_SERVICE (chart
 * templates/controller-daemonset.yaml). Snippets stay disabled. Keys: chart nginx-ingress 2.6.4
 * values.yaml (controller.kind, hostPort.enable/http/https, service.create, strategy,
 * reportIngressStatus, config.entries external-status-address).
 */
export function renderControllerValues(opts: ControllerValuesOptions): Record<string, unknown> {
    return sortDeep({
        controller: {
            config: {
                entries: {
                    "external-status-address": opts.statusAddress,
                    "server-tokens": "false",
                    "ssl-protocols": "TLSv1.2 TLSv1.3",
                },
            },
            enableCustomResources: true,
            enableSnippets: false,
            hostPort: { enable: true, http: EDGE_HOST_PORTS.http, https: EDGE_HOST_PORTS.https },
            ingressClass: { create: true, name: opts.ingressClass, setAsDefaultIngress: false },
            kind: "daemonset",
            nodeSelector: { ...opts.nodeSelector },
            podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
            reportIngressStatus: { enable: true },
            resources: { requests: { cpu: "100m", memory: EDGE_MEMORY_REQUEST } },
            service: { create: false },
            strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: "RollingUpdate" },
            telemetryReporting: { enable: false },
        },
        prometheus: { create: true },
    });
}
