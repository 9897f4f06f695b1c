/**
 * The sovereign-faas program: one `pulumi up` turns a VPS in Norway into a hardened K3s +
 * OpenFaaS platform. It reads and validates the stack config (all problems at once, before any
 * resource exists), then composes the components in order:
 *
 *   SSH connection -> preflight -> kernel tuning -> firewall -> K3s -> kubeconfig -> provider
 */
import * as pulumi from "@pulumi/pulumi";

import { Firewall, K3sCluster, KernelTuning, Preflight, SshConnection } from "./components";
import { fullKey, parseStackConfig, StackConfig } from "./program/config";
import { asRunError, readRawConfig } from "./program/load";

function loadConfig(): StackConfig {
    try {
        return parseStackConfig(readRawConfig());
    } catch (err) {
        throw asRunError(err);
    }
}

const config = loadConfig();

if (config.sshPrivateKey === undefined && !pulumi.runtime.isDryRun()) {
    throw new pulumi.RunError(
        `${fullKey("sshPrivateKey")} is required for an update: pulumi config set --secret ${fullKey("sshPrivateKey")} < ~/.ssh/id_ed25519`,
    );
}

const connection = new SshConnection("host", {
    host: config.host,
    location: config.location,
    user: config.sshUser,
    port: config.sshPort,
    privateKey: config.sshPrivateKey ?? pulumi.secret(""),
    hostKey: config.sshHostKey,
});
const remote = { connection: connection.connection, user: connection.user, location: config.location };

const preflight = new Preflight("preflight", remote, { dependsOn: [connection] });
const kernel = new KernelTuning("kernel", { ...remote, sysctls: config.kernel }, { dependsOn: [preflight] });
const firewall = new Firewall(
    "firewall",
    { ...remote, sshSources: config.firewall.sshSources, apiSources: config.firewall.apiSources, sshPort: config.sshPort },
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

export const host = config.host;
export const location = config.location;
export const preflightReport = preflight.report;
export const sysctlProfile = kernel.profile;
export const k3sVersion = cluster.version;
export const kubeconfig = cluster.kubeconfig;
