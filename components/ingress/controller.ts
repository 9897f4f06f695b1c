/**
 * Helm values for F5's NGINX Ingress Controller (chart `nginx-ingress`). The community
 * `ingress-nginx` was retired in March 2026 and is not used. Keys are those of the chart's
 * values.yaml (nginx/kubernetes-ingress, charts/nginx-ingress), verified for chart 2.4.x.
 */
import { sortDeep } from "../openfaas/values";

/** The chart, from F5's OCI registry (docs.nginx.com: "Use Helm to Install NGINX Ingress Controller"). */
export const NGINX_INGRESS_CHART = "oci://ghcr.io/nginx/charts/nginx-ingress";
/** Pinned chart version: 2.6.4 = NGINX Ingress Controller 5.5.4 (Chart.yaml at tag v5.5.4). */
export const DEFAULT_NGINX_INGRESS_CHART_VERSION = "2.6.4";
/** The namespace the controller runs in. */
export const INGRESS_NAMESPACE = "nginx-ingress";
/** The nginx user in F5's image. */
export const NGINX_UID = 101;

export interface ControllerValuesOptions {
    readonly ingressClass: string;
    readonly nodeSelector: Readonly<Record<string, string>>;
}

/**
 * Exposure: a LoadBalancer Service that K3s's ServiceLB binds to 80/443 of the host. The
 * controller itself stays an ordinary unprivileged pod (hostPorts would need a `privileged`
 * Pod Security level), no NodePorts are allocated, and `externalTrafficPolicy: Local` keeps the
 * client's address for rate limiting and the /system allow-list. `controller.securityContext`
 * is left empty on purpose: the chart then runs nginx as uid 101, non-root, without privilege
 * escalation, all capabilities dropped but NET_BIND_SERVICE (a non-empty value replaces that).
 * Snippets stay disabled: the /system allow-list is a Policy resource, not raw nginx config.
 */
export function renderControllerValues(opts: ControllerValuesOptions): Record<string, unknown> {
    return sortDeep({
        controller: {
            config: { entries: { "server-tokens": "false", "ssl-protocols": "TLSv1.2 TLSv1.3" } },
            enableCustomResources: true,
            enableSnippets: false,
            ingressClass: { create: true, name: opts.ingressClass, setAsDefaultIngress: false },
            kind: "deployment",
            nodeSelector: { ...opts.nodeSelector },
            podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
            replicaCount: 1,
            resources: { requests: { cpu: "100m", memory: "128Mi" } },
            service: {
                allocateLoadBalancerNodePorts: false,
                create: true,
                externalTrafficPolicy: "Local",
                type: "LoadBalancer",
            },
            telemetryReporting: { enable: false },
        },
        prometheus: { create: true },
    });
}
