/**
 * The engine tier's cluster objects: what the library puts into a cluster, created by the real
 * Pulumi CLI and Kubernetes provider against a real API server (tests/engine/control-plane.ts).
 * The objects come from the library's own renderers and the Functions component, so they are the
 * ones a stack deploys. Helm releases (their charts cannot be downloaded here), the random and tls
 * resources (their providers cannot be built here) and the remote commands (likewise) are left out.
 * No kubelet runs: readiness waits are skipped with the provider's skipAwait annotation.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import {
    FunctionSpec,
    Functions,
    renderBasicAuthSecret,
    renderCoreNetworkPolicies,
    renderEdgeNamespace,
    renderEdgeNetworkPolicies,
    renderGatewayIngresses,
    renderOpenFaasNamespaces,
    renderTlsSecret,
    SKIP_AWAIT_ANNOTATION,
    SovereignVolume,
} from "../../../components";

const config = new pulumi.Config();
const scenario = config.get("scenario") ?? "valid";
const release = config.get("release") ?? "1";
const provider = new k8s.Provider("engine", { kubeconfig: config.requireSecret("kubeconfig") });
const location = { country: "NO", region: "NO-03" };
const skip = { [SKIP_AWAIT_ANNOTATION]: "true" };
const opts = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({ provider, ...extra });
const withoutKind = <T extends { apiVersion?: unknown; kind?: unknown }>(m: T): Omit<T, "apiVersion" | "kind"> => {
    const { apiVersion: _a, kind: _k, ...rest } = m;
    return rest;
};

function fn(name: string, extra: Partial<FunctionSpec> = {}): FunctionSpec {
    return { name, image: `ghcr.io/example-no/${name}:1.0.0`, environment: {}, secrets: [], labels: {}, annotations: {}, limits: {}, requests: {}, readonlyRootFilesystem: false, nodeSelector: {}, ...extra };
}

const namespaces = renderOpenFaasNamespaces(location, true);
const core = new k8s.core.v1.Namespace("openfaas-ns", withoutKind(namespaces.core) as k8s.core.v1.NamespaceArgs, opts());
const fnNs = new k8s.core.v1.Namespace("openfaas-fn-ns", withoutKind(namespaces.functions) as k8s.core.v1.NamespaceArgs, opts());
const edgeNs = new k8s.core.v1.Namespace("edge-ns", withoutKind(renderEdgeNamespace(location)) as k8s.core.v1.NamespaceArgs, opts());
new k8s.core.v1.Secret("basic-auth", withoutKind(renderBasicAuthSecret(location, pulumi.secret("engine-test-password"))) as k8s.core.v1.SecretArgs, opts({ dependsOn: [core] }));
const tls = new k8s.core.v1.Secret(
    "gateway-tls",
    withoutKind(renderTlsSecret<pulumi.Input<string>>(location, "-----BEGIN CERTIFICATE-----\nZW5naW5l\n-----END CERTIFICATE-----\n", pulumi.secret("-----BEGIN PRIVATE KEY-----\nZW5naW5l\n-----END PRIVATE KEY-----\n"))) as k8s.core.v1.SecretArgs,
    opts({ dependsOn: [core] }),
);

const volumes: SovereignVolume[] = [{ name: "profiles", hostPath: "/data/sovereign/profiles", mountPath: "/data/profiles", readOnly: true, functions: ["reader"], owner: 10000, requireEncryption: false }];
const functions = new Functions(
    "functions",
    {
        provider,
        location,
        functions: [
            fn("reader", { environment: { PROFILE_DIR: "/data/profiles" } }),
            fn("payments", {
                secrets: ["payment-api-key"],
                readonlyRootFilesystem: true,
                environment: { RELEASE: release, PROVIDER_URL: "https://api.betaling.example.no" },
                labels: { "com.openfaas.scale.min": "1" },
                annotations: { "sovereign-faas.io/egress": "198.51.100.0/24=443 2001:db8::/32=443,8443/udp" },
            }),
        ],
        features: { edition: "ce", scaleToZero: { enabled: false, defaultIdleDurationSeconds: 900 }, queueNames: [], gatewayTimeoutSeconds: 300, functionNamespaceEnforce: "privileged" },
        functionSecrets: { "payment-api-key": { "api-key": pulumi.secret("engine-test-key") } },
        volumes,
        waitForReady: false,
        network: { egress: [{ cidr: "203.0.113.0/24", ports: [443] }] },
    },
    { dependsOn: [fnNs] },
);

// The core and edge namespaces' network policies, as the OpenFaas and NginxEdge components render
// them (CE, with a connector; the API server at the node address of a one-node K3s).
for (const policy of [
    ...renderCoreNetworkPolicies({ location, edition: "ce", nodeAddress: "192.0.2.10", connector: true, callbackEgress: [{ cidr: "203.0.113.0/24", ports: [443] }], acme: true, edgeNamespace: "nginx-ingress" }),
    ...renderEdgeNetworkPolicies({ location, namespace: "nginx-ingress", nodeAddress: "192.0.2.10", acme: false, certManagerNamespace: "cert-manager" }),
]) {
    const meta = policy.metadata as { name: string; namespace: string };
    new k8s.networking.v1.NetworkPolicy(`netpol-${meta.namespace}-${meta.name}`, withoutKind(policy) as k8s.networking.v1.NetworkPolicyArgs, opts({ dependsOn: [core, edgeNs] }));
}

for (const ing of renderGatewayIngresses({
    domain: "functions.example.no",
    tlsSecretName: "gateway-tls",
    timeoutSeconds: 310,
    maxBodySize: "50m",
    buffers: { number: 8, size: "16k" },
    bufferSize: "32k",
    rateLimit: { rate: "10r/s", burst: 20, noDelay: true },
    systemAllowFrom: [],
})) {
    const meta = ing.metadata as { name: string; annotations: Record<string, string> };
    new k8s.networking.v1.Ingress(meta.name, { ...withoutKind(ing), metadata: { ...meta, annotations: { ...meta.annotations, ...skip } } } as k8s.networking.v1.IngressArgs, opts({ dependsOn: [tls, edgeNs] }));
}

if (scenario === "violations") {
    // What the policy pack must refuse: a hostPath outside the sovereign roots, mounted writable and
    // not pinned; data sent to foreign storage; no limits; an Ingress without TLS.
    new k8s.apps.v1.Deployment(
        "rogue",
        {
            metadata: { name: "rogue", namespace: "openfaas-fn", labels: { faas_function: "rogue" }, annotations: skip },
            spec: {
                selector: { matchLabels: { faas_function: "rogue" } },
                template: {
                    metadata: { labels: { faas_function: "rogue" } },
                    spec: {
                        containers: [{ name: "rogue", image: "ghcr.io/example-no/rogue:1.0.0", env: [{ name: "BUCKET", value: "https://s3.eu-central-1.amazonaws.com/profiles" }], volumeMounts: [{ name: "etc", mountPath: "/host-etc" }] }],
                        volumes: [{ name: "etc", hostPath: { path: "/etc", type: "Directory" } }],
                    },
                },
            },
        },
        opts({ dependsOn: [fnNs] }),
    );
    new k8s.networking.v1.Ingress(
        "plain-http",
        { metadata: { name: "plain-http", namespace: "openfaas", annotations: skip }, spec: { ingressClassName: "nginx", rules: [{ host: "plain.example.no", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "gateway", port: { number: 8080 } } } }] } }] } },
        opts({ dependsOn: [core] }),
    );
}

export const functionNames = functions.names;
