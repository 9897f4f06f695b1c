/**
 * The gateway's public edge: pure renderers for the Ingresses in front of the OpenFaaS gateway,
 * with F5 NGINX Ingress Controller annotations (`nginx.org/*`).
 *
 * One host, three Ingresses of a mergeable group (F5 NIC accepts one Ingress per host unless
 * they are master and minions): the master holds the host, TLS, the HTTPS redirect and HSTS;
 * one minion serves `/function/` and `/async-function/` (public: functions do their own auth);
 * one serves the admin API `/system/` and `/ui/` (basic auth), optionally limited to
 * `systemAllowFrom`.
 */
import { GATEWAY_TIMEOUT_MARGIN_SECONDS } from "../openfaas/values";
import { OPENFAAS_NAMESPACE } from "../shared/edition";

/** The ingress class the controller serves. */
export const INGRESS_CLASS = "nginx";
/** Default body size limit (the seeds' uploads). */
export const DEFAULT_MAX_BODY_SIZE = "50m";
/** Default proxy buffers: 8 x 16k, with a 32k first buffer. */
export const DEFAULT_PROXY_BUFFERS = { number: 8, size: "16k" } as const;
export const DEFAULT_PROXY_BUFFER_SIZE = "32k";
/** Default rate limit per client address. */
export const DEFAULT_RATE_LIMIT = { rate: "10r/s", burst: 20, noDelay: true } as const;
/** One year of HSTS. */
export const HSTS_MAX_AGE_SECONDS = 31536000;
/**
 * How much longer than the gateway's write timeout NGINX waits for an answer. The gateway ends a
 * call at its upstream timeout and writes its reply until its write timeout (the upstream
 * timeout plus GATEWAY_TIMEOUT_MARGIN_SECONDS); an NGINX read timeout equal to the upstream
 * timeout races the gateway and answers 504 first (openfaas/faas#1016, #1196).
 */
export const EDGE_TIMEOUT_MARGIN_SECONDS = 5;

/** The gateway's write timeout for an upstream (function) timeout: what the edge must outlast. */
export function gatewayWriteTimeoutSeconds(gatewayTimeoutSeconds: number): number {
    return gatewayTimeoutSeconds + GATEWAY_TIMEOUT_MARGIN_SECONDS;
}

/** The edge's proxy read/send timeout when none is configured. */
export function defaultEdgeTimeoutSeconds(gatewayTimeoutSeconds: number): number {
    return gatewayWriteTimeoutSeconds(gatewayTimeoutSeconds) + EDGE_TIMEOUT_MARGIN_SECONDS;
}

/** Connecting to the gateway is quick: a dead upstream fails after this, whatever the read timeout. */
export const MAX_PROXY_CONNECT_TIMEOUT_SECONDS = 60;
/** The gateway Service the chart creates. */
export const GATEWAY_SERVICE = { name: "gateway", port: 8080 } as const;

export interface RateLimit {
    /** Requests per second or minute per client, `10r/s` or `600r/m`. */
    readonly rate: string;
    /** Requests allowed above the rate before 429s. */
    readonly burst: number;
    /** Serve the burst at once instead of spacing it out. */
    readonly noDelay: boolean;
}

export interface GatewayIngressOptions {
    /** The public DNS name, e.g. functions.example.no. */
    readonly domain: string;
    /** The TLS Secret in the openfaas namespace. */
    readonly tlsSecretName: string;
    /** Proxy read/send timeout in seconds; longer than the gateway's write timeout (see `defaultEdgeTimeoutSeconds`). */
    readonly timeoutSeconds: number;
    readonly maxBodySize: string;
    readonly buffers: { readonly number: number; readonly size: string };
    readonly bufferSize: string;
    readonly rateLimit: RateLimit;
    /** CIDRs allowed to reach /system and /ui; empty means anyone (basic auth still applies). */
    readonly systemAllowFrom: readonly string[];
}

function sorted(r: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The NGINX Policy (k8s.nginx.org/v1) holding the /system allow-list. */
export const SYSTEM_ALLOW_POLICY = "gateway-system-allow";

/** Server-level annotations (master): HTTPS redirect, HSTS, body size. */
export function masterAnnotations(opts: GatewayIngressOptions): Record<string, string> {
    return sorted({
        "nginx.org/client-max-body-size": opts.maxBodySize,
        "nginx.org/hsts": "true",
        "nginx.org/hsts-include-subdomains": "false",
        "nginx.org/hsts-max-age": String(HSTS_MAX_AGE_SECONDS),
        "nginx.org/mergeable-ingress-type": "master",
        // ssl-redirect (NIC >= 5.4): plain HTTP to HTTPS. (redirect-to-https is for TLS ended
        // by a load balancer in front, which is not the case here.)
        "nginx.org/ssl-redirect": "true",
    });
}

/** Location-level annotations (minions): long timeouts, buffers, rate limit. */
export function locationAnnotations(opts: GatewayIngressOptions): Record<string, string> {
    const timeout = `${opts.timeoutSeconds}s`;
    return sorted({
        "nginx.org/client-max-body-size": opts.maxBodySize,
        "nginx.org/limit-req-burst": String(opts.rateLimit.burst),
        "nginx.org/limit-req-key": "${binary_remote_addr}",
        "nginx.org/limit-req-no-delay": String(opts.rateLimit.noDelay),
        "nginx.org/limit-req-rate": opts.rateLimit.rate,
        "nginx.org/limit-req-reject-code": "429",
        "nginx.org/mergeable-ingress-type": "minion",
        "nginx.org/proxy-buffer-size": opts.bufferSize,
        "nginx.org/proxy-buffering": "true",
        "nginx.org/proxy-buffers": `${opts.buffers.number} ${opts.buffers.size}`,
        "nginx.org/proxy-connect-timeout": `${Math.min(opts.timeoutSeconds, MAX_PROXY_CONNECT_TIMEOUT_SECONDS)}s`,
        "nginx.org/proxy-read-timeout": timeout,
        "nginx.org/proxy-send-timeout": timeout,
    });
}

type IngressPath = { path: string; pathType: "Prefix"; backend: { service: { name: string; port: { number: number } } } };

function gatewayPath(path: string): IngressPath {
    return { path, pathType: "Prefix", backend: { service: { name: GATEWAY_SERVICE.name, port: { number: GATEWAY_SERVICE.port } } } };
}

function ingress(name: string, annotations: Record<string, string>, spec: Record<string, unknown>): Record<string, unknown> {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: {
            name,
            namespace: OPENFAAS_NAMESPACE,
            annotations,
            labels: { "app.kubernetes.io/managed-by": "sovereign-faas", "app.kubernetes.io/part-of": "openfaas" },
        },
        spec: { ingressClassName: INGRESS_CLASS, ...spec },
    };
}

/** The accessControl Policy for /system and /ui (F5 NIC >= 5.4 applies it to an Ingress via `nginx.org/policies`). */
export function renderSystemAllowPolicy(allowFrom: readonly string[]): Record<string, unknown> {
    return {
        apiVersion: "k8s.nginx.org/v1",
        kind: "Policy",
        metadata: { name: SYSTEM_ALLOW_POLICY, namespace: OPENFAAS_NAMESPACE },
        spec: { accessControl: { allow: [...allowFrom].sort() } },
    };
}

/** The Ingresses for the gateway: master (host + TLS), function paths, admin paths. */
export function renderGatewayIngresses(opts: GatewayIngressOptions): Record<string, unknown>[] {
    const location = locationAnnotations(opts);
    const allow: Record<string, string> = opts.systemAllowFrom.length > 0 ? { "nginx.org/policies": SYSTEM_ALLOW_POLICY } : {};
    return [
        ingress("gateway", masterAnnotations(opts), {
            tls: [{ hosts: [opts.domain], secretName: opts.tlsSecretName }],
            rules: [{ host: opts.domain }],
        }),
        ingress("gateway-functions", location, {
            rules: [{ host: opts.domain, http: { paths: [gatewayPath("/function/"), gatewayPath("/async-function/")] } }],
        }),
        ingress("gateway-system", sorted({ ...location, ...allow }), {
            rules: [{ host: opts.domain, http: { paths: [gatewayPath("/system/"), gatewayPath("/ui/")] } }],
        }),
    ];
}
