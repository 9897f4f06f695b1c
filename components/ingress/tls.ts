/** TLS for the public endpoint: how the certificate is obtained. */
import { sortDeep } from "../shared/sort";

/** `self-signed`: @pulumi/tls makes a key and certificate (first boot). `provided`: from secret config. `acme`: cert-manager + Let's Encrypt. */
export type TlsMode = "self-signed" | "provided" | "acme";

/** The default for first boot: works before DNS points at the host. */
export const DEFAULT_TLS_MODE: TlsMode = "self-signed";
/** Validity of the self-signed certificate, in hours (one year). */
export const SELF_SIGNED_VALIDITY_HOURS = 24 * 365;
/** Renew the self-signed certificate this many hours before it expires (on the next `pulumi up`). */
export const SELF_SIGNED_EARLY_RENEWAL_HOURS = 24 * 30;
/** Let's Encrypt production directory. */
export const LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";
/** Let's Encrypt staging directory (untrusted certificates, generous rate limits). */
export const LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";
/** The TLS Secret holding the gateway's certificate (in the openfaas namespace). */
export const GATEWAY_TLS_SECRET = "gateway-tls";
/** cert-manager's chart. */
export const CERT_MANAGER_CHART_REPO = "https://charts.jetstack.io";
/** Pinned cert-manager chart version (release tag v1.21.1). */
export const DEFAULT_CERT_MANAGER_CHART_VERSION = "v1.21.1";
export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** The ClusterIssuer's name. */
export const CLUSTER_ISSUER = "letsencrypt";

/** cert-manager values: CRDs installed with the chart, pods pinned, non-root by the chart's defaults. */
export function renderCertManagerValues(nodeSelector: Readonly<Record<string, string>>): Record<string, unknown> {
    return sortDeep({
        cainjector: { nodeSelector: { ...nodeSelector } },
        crds: { enabled: true },
        nodeSelector: { ...nodeSelector },
        startupapicheck: { nodeSelector: { ...nodeSelector } },
        webhook: { nodeSelector: { ...nodeSelector } },
    });
}

/**
 * The Let's Encrypt ClusterIssuer, solving HTTP-01 through the nginx ingress class. F5 NIC
 * serves one Ingress per host, so cert-manager's solver Ingress joins the gateway's mergeable
 * group as a minion; its Service is ClusterIP (cert-manager's default would be a NodePort).
 */
export function renderClusterIssuer(email: string, staging: boolean, ingressClass: string): Record<string, unknown> {
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: CLUSTER_ISSUER },
        spec: {
            acme: {
                email,
                server: staging ? LETSENCRYPT_STAGING : LETSENCRYPT_PRODUCTION,
                privateKeySecretRef: { name: `${CLUSTER_ISSUER}-account-key` },
                solvers: [
                    {
                        http01: {
                            ingress: {
                                ingressClassName: ingressClass,
                                serviceType: "ClusterIP",
                                ingressTemplate: { metadata: { annotations: { "nginx.org/mergeable-ingress-type": "minion" } } },
                            },
                        },
                    },
                ],
            },
        },
    };
}

/**
 * The gateway's Certificate, requested explicitly (not through Ingress annotations) so that a
 * temporary self-signed certificate exists until the first issuance: without a key for the
 * host, NGINX rejects the TLS handshake the redirected HTTP-01 challenge needs.
 */
export function renderGatewayCertificate(domain: string, namespace: string): Record<string, unknown> {
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: GATEWAY_TLS_SECRET, namespace, annotations: { "cert-manager.io/issue-temporary-certificate": "true" } },
        spec: { secretName: GATEWAY_TLS_SECRET, dnsNames: [domain], issuerRef: { kind: "ClusterIssuer", name: CLUSTER_ISSUER } },
    };
}
