/**
 * The sovereign-faas program: one `pulumi up` turns a VPS in Norway into a hardened K3s +
 * OpenFaaS platform. It reads and validates the stack config (all problems at once, before any
 * resource exists), then composes the components:
 *
 *   SSH connection -> preflight -> kernel tuning -> firewall -> K3s -> kubeconfig -> provider
 *   provider -> OpenFaaS (namespaces, basic auth, release) -> queues, functions
 *   SSH connection -> sovereign volume directories -> the functions that mount them
 *   provider -> NGINX controller (+ TLS) -> Ingresses to the gateway
 */
import * as pulumi from "@pulumi/pulumi";

import {
    asyncMemoryRequestsMiB,
    AsyncQueues,
    EDGE_MEMORY_REQUEST,
    functionsMemoryRequestsMiB,
    memoryMiB,
    openFaasMemoryRequestsMiB,
    requiredMemoryMiB,
    resolveOpenFaasValues,
    Firewall,
    Functions,
    functionNamespacePodSecurityLabels,
    K3sCluster,
    KernelTuning,
    NginxEdge,
    OpenFaas,
    Preflight,
    SovereignVolumes,
    SshConnection,
    topicsOf,
} from "./components";
import { fullKey, parseStackConfig, platformFeatures, StackConfig } from "./program/config";
import { OpenFaasSettings } from "./program/settings/openfaas";

/** The OpenFaas arguments that follow from the settings (all but the provider, the licence and the namespace labels). */
function openFaasOptions(of: OpenFaasSettings) {
    return {
        edition: of.edition,
        chartVersion: of.chartVersion,
        gatewayTimeoutSeconds: of.gateway.timeoutSeconds,
        gatewayReplicas: of.gateway.replicas,
        queue: { workers: of.queue.workers, ackWaitSeconds: of.queue.ackWaitSeconds },
        maxInflight: of.queue.maxInflight,
        helmValues: of.helmValues,
    };
}
import { asRunError, readRawConfig } from "./program/load";

function loadConfig(): StackConfig {
    try {
        return parseStackConfig(readRawConfig(), { rootDir: __dirname, env: process.env });
    } catch (err) {
        throw asRunError(err);
    }
}

const config = loadConfig();
for (const warning of config.functions.warnings) {
    void pulumi.log.warn(warning);
}

if (config.sshPrivateKey === undefined && !pulumi.runtime.isDryRun()) {
    throw new pulumi.RunError(
        `${fullKey("sshPrivateKey")} is required for an update: pulumi config set --secret ${fullKey("sshPrivateKey")} < ~/.ssh/id_ed25519`,
    );
}

// --- The host -----------------------------------------------------------------------------
const connection = new SshConnection("host", {
    host: config.host,
    location: config.location,
    user: config.sshUser,
    port: config.sshPort,
    privateKey: config.sshPrivateKey ?? pulumi.secret(""),
    hostKey: config.sshHostKey,
});
const remote = { connection: connection.connection, user: connection.user, location: config.location };

// The memory floor: K3s itself plus what every workload of this stack requests.
const memoryFloorMiB = requiredMemoryMiB(
    openFaasMemoryRequestsMiB(resolveOpenFaasValues({ location: config.location, ...openFaasOptions(config.openfaas) }).merged, config.openfaas.edition) +
        asyncMemoryRequestsMiB(config.openfaas.queues, config.functions.functions.flatMap(topicsOf)) +
        functionsMemoryRequestsMiB(config.functions.functions) +
        (config.ingress === undefined ? 0 : (memoryMiB(EDGE_MEMORY_REQUEST) ?? 0)),
);
const preflight = new Preflight("preflight", { ...remote, dataPath: config.functions.sovereignRoots[0], minMemoryMiB: memoryFloorMiB }, { dependsOn: [connection] });
const kernel = new KernelTuning("kernel", { ...remote, sysctls: config.kernel }, { dependsOn: [preflight] });
const firewall = new Firewall(
    "firewall",
    { ...remote, sshSources: config.firewall.sshSources, apiSources: config.firewall.apiSources, sshPort: config.sshPort, requireClientApiAccess: true },
    { dependsOn: [kernel] },
);
const cluster = new K3sCluster(
    "k3s",
    {
        ...remote,
        host: config.host,
        version: config.k3s.version,
        channel: config.k3s.channel,
        airgap: config.k3s.airgap,
        extraArgs: config.k3s.extraArgs,
    },
    // protect-kernel-defaults: the kubelet refuses to start before the kernel step has run.
    { dependsOn: [kernel, firewall] },
);
// Sovereign data directories need only SSH and the preflight; they are created while K3s installs.
const volumes = new SovereignVolumes(
    "volumes",
    { ...remote, host: config.host, volumes: config.functions.volumes, sovereignRoots: config.functions.sovereignRoots },
    { dependsOn: [preflight] },
);

// --- The platform ---------------------------------------------------------------------------
const of = config.openfaas;
const openfaas = new OpenFaas("openfaas", {
    provider: cluster.provider,
    location: config.location,
    license: of.license,
    ...openFaasOptions(of),
    functionNamespaceLabels: functionNamespacePodSecurityLabels(config.functions.volumes.length > 0),
});
for (const warning of openfaas.warnings) {
    void pulumi.log.warn(warning);
}
const queues = new AsyncQueues(
    "queues",
    {
        provider: cluster.provider,
        location: config.location,
        edition: of.edition,
        queues: of.queues,
        topics: config.functions.functions.flatMap(topicsOf),
        upstreamTimeoutSeconds: of.gateway.timeoutSeconds,
    },
    { dependsOn: [openfaas.release] },
);
const functions = new Functions(
    "functions",
    {
        provider: cluster.provider,
        location: config.location,
        functions: config.functions.functions,
        features: platformFeatures(of),
        functionSecrets: config.functions.functionSecrets,
        volumes: config.functions.volumes,
        volumeDependency: volumes,
    },
    // Functions need their namespace; they do not wait for the chart's pods.
    { dependsOn: [openfaas.functionNamespace] },
);

// --- The edge -----------------------------------------------------------------------------
const edge =
    config.ingress === undefined
        ? undefined
        : new NginxEdge("edge", { ...config.ingress, provider: cluster.provider, location: config.location, host: config.host, gateway: openfaas.release });
if (edge === undefined) {
    void pulumi.log.warn(`${fullKey("domain")} is not set: the gateway is reachable only inside the cluster`);
}

// --- Outputs --------------------------------------------------------------------------------
export const host = config.host;
export const location = config.location;
export const preflightReport = preflight.report;
export const sysctlProfile = kernel.profile;
export const k3sVersion = cluster.version;
export const kubeconfig = cluster.kubeconfig;
export const openfaasEdition = of.edition;
export const gatewayUrl = openfaas.gatewayUrl;
export const asyncUrlPattern = queues.asyncUrlPattern;
export const basicAuthPassword = openfaas.basicAuthPassword;
export const functionNames = functions.names;
export const sovereignVolumes = volumes.volumes;
export const publicUrl = edge?.url;
export const tlsMode = edge?.tlsMode;
export const certificateValidityEnd = edge?.certificateValidityEnd;
