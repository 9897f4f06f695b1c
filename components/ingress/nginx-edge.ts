import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

import { DEFAULT_GATEWAY_TIMEOUT_SECONDS } from "../openfaas/values";
import { OPENFAAS_NAMESPACE } from "../shared/edition";
import { Problems } from "../shared/validation";
import { renderEdgeNetworkPolicies } from "../network/policies";
import { registerNetworkPolicies } from "../network/resources";
import { Location, locationLabels } from "../shared/labels";
import { childOptions } from "../shared/options";
import { DEFAULT_NGINX_INGRESS_CHART_VERSION, INGRESS_NAMESPACE, NGINX_INGRESS_CHART, renderControllerValues } from "./controller";
import {
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_PROXY_BUFFER_SIZE,
    DEFAULT_PROXY_BUFFERS,
    DEFAULT_RATE_LIMIT,
    defaultEdgeTimeoutSeconds,
    gatewayWriteTimeoutSeconds,
    INGRESS_CLASS,
    RateLimit,
    renderGatewayIngresses,
    renderSystemAllowPolicy,
} from "./gateway-ingress";
import {
    CERT_MANAGER_CHART_REPO,
    CERT_MANAGER_NAMESPACE,
    DEFAULT_CERT_MANAGER_CHART_VERSION,
    GATEWAY_TLS_SECRET,
    renderCertManagerValues,
    renderClusterIssuer,
    renderGatewayCertificate,
    SELF_SIGNED_EARLY_RENEWAL_HOURS,
    SELF_SIGNED_VALIDITY_HOURS,
    TlsMode,
} from "./tls";

/**
 * Pod Security of the controller's namespace. Baseline forbids any hostPort (pod-security-
 * admission check_hostPorts.go, "Allowed Values: undefined/0"), so it enforces `privileged` and
 * warns at nothing; everything else about the controller pod meets `restricted` (non-root,
 * capabilities dropped but NET_BIND_SERVICE, RuntimeDefault seccomp), which the audit level records.
 */
export const INGRESS_POD_SECURITY: Readonly<Record<string, string>> = {
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
};
/** cert-manager's pods are non-root and need nothing of the host: baseline, warned at restricted. */
export const CERT_MANAGER_POD_SECURITY: Readonly<Record<string, string>> = {
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
};

/** The controller's namespace, labelled with the jurisdiction and the Pod Security its host ports need. */
export function renderEdgeNamespace(location: Location): Record<string, unknown> {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name: INGRESS_NAMESPACE, labels: { ...locationLabels(location), ...INGRESS_POD_SECURITY } } };
}

/** The gateway's TLS Secret (kubernetes.io/tls) in the openfaas namespace. */
export function renderTlsSecret<T>(location: Location, certificate: T, key: T): { apiVersion: string; kind: string; metadata: Record<string, unknown>; type: string; stringData: Record<string, T> } {
    return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: GATEWAY_TLS_SECRET, namespace: OPENFAAS_NAMESPACE, labels: locationLabels(location) },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": certificate, "tls.key": key },
    };
}

/** Every problem of an edge's arguments, before anything is created: its timeout against the gateway's. */
export function validateEdgeArgs(args: Pick<NginxEdgeArgs, "gatewayTimeoutSeconds" | "timeoutSeconds">): Problems {
    const gatewayTimeout = args.gatewayTimeoutSeconds ?? DEFAULT_GATEWAY_TIMEOUT_SECONDS;
    const timeoutSeconds = args.timeoutSeconds ?? defaultEdgeTimeoutSeconds(gatewayTimeout);
    const problems = new Problems();
    if (timeoutSeconds <= gatewayWriteTimeoutSeconds(gatewayTimeout)) {
        problems.add(
            "timeoutSeconds",
            timeoutSeconds,
            `must be longer than the gateway's write timeout (${gatewayWriteTimeoutSeconds(gatewayTimeout)}s for a gateway timeout of ${gatewayTimeout}s), or NGINX answers 504 while the gateway is still answering`,
            `leave it unset (${defaultEdgeTimeoutSeconds(gatewayTimeout)}s) or raise it`,
        );
    }
    return problems;
}

export type EdgeTls =
    | { readonly mode: "self-signed" }
    | { readonly mode: "provided"; readonly certificate: pulumi.Input<string>; readonly privateKey: pulumi.Input<string> }
    | { readonly mode: "acme"; readonly email: string; readonly staging?: boolean };

export interface NginxEdgeArgs {
    /**
     * Network policies for the controller's namespace (and cert-manager's with ACME):
     * `nodeAddress` is the API server's advertise address. Undefined: no policies.
     */
    readonly network?: { readonly nodeAddress: string };
    readonly provider: k8s.Provider;
    readonly location: Location;
    /** The host's public address or DNS name, reported in the Ingresses' status. */
    readonly host: string;
    /** The public DNS name of the gateway, e.g. functions.example.no. */
    readonly domain: string;
    /** How the certificate is obtained. */
    readonly tls: EdgeTls;
    /**
     * The gateway's upstream (function) timeout, seconds: the edge must outlast its write timeout.
     * @default 300 (DEFAULT_GATEWAY_TIMEOUT_SECONDS)
     */
    readonly gatewayTimeoutSeconds?: number;
    /**
     * Proxy read/send timeout, seconds; longer than the gateway's write timeout.
     * @default the gateway's write timeout plus 5 s (defaultEdgeTimeoutSeconds)
     */
    readonly timeoutSeconds?: number;
    /**
     * Largest request body.
     * @default "50m" (DEFAULT_MAX_BODY_SIZE)
     */
    readonly maxBodySize?: string;
    /**
     * Proxy buffers.
     * @default { number: 8, size: "16k" } (DEFAULT_PROXY_BUFFERS)
     */
    readonly buffers?: { readonly number: number; readonly size: string };
    /**
     * First proxy buffer (response headers).
     * @default "32k" (DEFAULT_PROXY_BUFFER_SIZE)
     */
    readonly bufferSize?: string;
    /**
     * Per-client rate limit.
     * @default { rate: "10r/s", burst: 20, noDelay: true } (DEFAULT_RATE_LIMIT)
     */
    readonly rateLimit?: RateLimit;
    /**
     * CIDRs allowed to reach /system and /ui.
     * @default [] (anyone; basic auth still applies)
     */
    readonly systemAllowFrom?: readonly string[];
    /**
     * Pinned chart versions.
     * @default { nginxIngress: "2.6.4", certManager: "v1.21.1" }
     */
    readonly chartVersions?: { readonly nginxIngress?: string; readonly certManager?: string };
    /** The OpenFaaS release: the Ingresses point at its gateway. */
    readonly gateway?: pulumi.Resource;
}

/**
 * The only way in: F5's NGINX Ingress Controller on the host's ports 80/443, terminating TLS for the
 * domain, redirecting HTTP to HTTPS with HSTS, limiting request rates and holding long function
 * calls open as long as the gateway does.
 */
export class NginxEdge extends pulumi.ComponentResource {
    /** The public URL. */
    readonly url: string;
    /** When the self-signed certificate expires (RFC 3339); undefined for other modes. */
    readonly certificateValidityEnd?: pulumi.Output<string>;
    /** The TLS mode in use. */
    readonly tlsMode: TlsMode;

    constructor(name: string, args: NginxEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        validateEdgeArgs(args).throwIfAny(`NginxEdge ${name}: invalid arguments`);
        const timeoutSeconds = args.timeoutSeconds ?? defaultEdgeTimeoutSeconds(args.gatewayTimeoutSeconds ?? DEFAULT_GATEWAY_TIMEOUT_SECONDS);
        super("sovereign-faas:ingress:NginxEdge", name, {}, opts);
        const labels = locationLabels(args.location);
        const k8sOpts = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => childOptions(this, opts, { provider: args.provider, ...extra });
        const systemAllowFrom = args.systemAllowFrom ?? [];
        this.tlsMode = args.tls.mode;

        const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: renderEdgeNamespace(args.location).metadata as k8s.types.input.meta.v1.ObjectMeta }, k8sOpts());
        const certManagerPolicies: Record<string, unknown>[] = [];
        if (args.network !== undefined) {
            const policies = renderEdgeNetworkPolicies({
                location: args.location,
                namespace: INGRESS_NAMESPACE,
                nodeAddress: args.network.nodeAddress,
                acme: args.tls.mode === "acme",
                certManagerNamespace: CERT_MANAGER_NAMESPACE,
            });
            registerNetworkPolicies(`${name}-netpol`, policies.filter((p) => (p.metadata as { namespace: string }).namespace === INGRESS_NAMESPACE), k8sOpts({ dependsOn: [ns] }));
            certManagerPolicies.push(...policies.filter((p) => (p.metadata as { namespace: string }).namespace === CERT_MANAGER_NAMESPACE));
        }
        const controller = new k8s.helm.v3.Release(
            `${name}-controller`,
            {
                name: "nginx-ingress",
                chart: NGINX_INGRESS_CHART,
                version: args.chartVersions?.nginxIngress ?? DEFAULT_NGINX_INGRESS_CHART_VERSION,
                namespace: INGRESS_NAMESPACE,
                createNamespace: false,
                values: renderControllerValues({ ingressClass: INGRESS_CLASS, nodeSelector: labels, statusAddress: args.host }),
                atomic: true,
            },
            k8sOpts({ dependsOn: [ns] }),
        );

        const ingressDeps: pulumi.Resource[] = [controller, ...(args.gateway ? [args.gateway] : [])];
        if (args.tls.mode === "self-signed" || args.tls.mode === "provided") {
            let certificate: pulumi.Input<string>;
            let key: pulumi.Input<string>;
            if (args.tls.mode === "self-signed") {
                const pk = new tls.PrivateKey(`${name}-tls-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this, additionalSecretOutputs: ["privateKeyPem"] });
                const cert = new tls.SelfSignedCert(
                    `${name}-tls-cert`,
                    {
                        privateKeyPem: pk.privateKeyPem,
                        subject: { commonName: args.domain, organization: "sovereign-faas (self-signed)" },
                        dnsNames: [args.domain],
                        validityPeriodHours: SELF_SIGNED_VALIDITY_HOURS,
                        earlyRenewalHours: SELF_SIGNED_EARLY_RENEWAL_HOURS,
                        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
                    },
                    { parent: this },
                );
                certificate = cert.certPem;
                key = pk.privateKeyPem;
                this.certificateValidityEnd = cert.validityEndTime;
            } else {
                certificate = args.tls.certificate;
                key = args.tls.privateKey;
            }
            const { apiVersion: _v, kind: _k, ...secretArgs } = renderTlsSecret<pulumi.Input<string>>(args.location, certificate, pulumi.secret(key));
            ingressDeps.push(new k8s.core.v1.Secret(`${name}-tls`, secretArgs as k8s.core.v1.SecretArgs, k8sOpts()));
        } else {
            const cmNs = new k8s.core.v1.Namespace(`${name}-cert-manager-ns`, { metadata: { name: CERT_MANAGER_NAMESPACE, labels: { ...labels, ...CERT_MANAGER_POD_SECURITY } } }, k8sOpts());
            registerNetworkPolicies(`${name}-netpol-cert-manager`, certManagerPolicies, k8sOpts({ dependsOn: [cmNs] }));
            const certManager = new k8s.helm.v3.Release(
                `${name}-cert-manager`,
                {
                    name: "cert-manager",
                    chart: "cert-manager",
                    version: args.chartVersions?.certManager ?? DEFAULT_CERT_MANAGER_CHART_VERSION,
                    repositoryOpts: { repo: CERT_MANAGER_CHART_REPO },
                    namespace: CERT_MANAGER_NAMESPACE,
                    createNamespace: false,
                    values: renderCertManagerValues(labels),
                    atomic: true,
                },
                k8sOpts({ dependsOn: [cmNs] }),
            );
            const issuer = new k8s.apiextensions.CustomResource(
                `${name}-issuer`,
                renderClusterIssuer(args.tls.email, args.tls.staging ?? false, INGRESS_CLASS) as k8s.apiextensions.CustomResourceArgs,
                k8sOpts({ dependsOn: [certManager, controller] }),
            );
            ingressDeps.push(
                new k8s.apiextensions.CustomResource(
                    `${name}-certificate`,
                    renderGatewayCertificate(args.domain, OPENFAAS_NAMESPACE) as k8s.apiextensions.CustomResourceArgs,
                    k8sOpts({ dependsOn: [issuer] }),
                ),
            );
        }

        if (systemAllowFrom.length > 0) {
            ingressDeps.push(
                new k8s.apiextensions.CustomResource(
                    `${name}-system-allow`,
                    renderSystemAllowPolicy(systemAllowFrom) as k8s.apiextensions.CustomResourceArgs,
                    k8sOpts({ dependsOn: [controller] }),
                ),
            );
        }
        for (const ing of renderGatewayIngresses({
            domain: args.domain,
            tlsSecretName: GATEWAY_TLS_SECRET,
            timeoutSeconds,
            maxBodySize: args.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
            buffers: args.buffers ?? DEFAULT_PROXY_BUFFERS,
            bufferSize: args.bufferSize ?? DEFAULT_PROXY_BUFFER_SIZE,
            rateLimit: args.rateLimit ?? DEFAULT_RATE_LIMIT,
            systemAllowFrom,
        })) {
            const meta = ing.metadata as { name: string };
            new k8s.networking.v1.Ingress(`${name}-${meta.name}`, ing as unknown as k8s.networking.v1.IngressArgs, k8sOpts({ dependsOn: ingressDeps }));
        }
        this.url = `https://${args.domain}/`;
        this.registerOutputs({ url: this.url, certificateValidityEnd: this.certificateValidityEnd });
    }
}
