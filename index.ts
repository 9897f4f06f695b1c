/**
 * The sovereign-faas program: one `pulumi up` turns a VPS in Norway into a hardened K3s +
 * OpenFaaS platform. It reads and validates the stack config (every problem at once, before any
 * resource exists) and hands the typed settings to the one platform component.
 */
import * as pulumi from "@pulumi/pulumi";

import { SovereignFaasPlatform } from "./components";
import { parseStackConfig, platformArgs, StackConfig } from "./program/config";
import { asRunError, readRawConfig, readSecretPaths } from "./program/load";

function loadConfig(): StackConfig {
    try {
        return parseStackConfig(readRawConfig(), { rootDir: __dirname, env: process.env, secretPaths: readSecretPaths(__dirname) });
    } catch (err) {
        throw asRunError(err);
    }
}

const config = loadConfig();
for (const warning of config.functions.warnings) {
    void pulumi.log.warn(warning);
}
const platform = new SovereignFaasPlatform("sovereign-faas", platformArgs(config));

// --- Outputs --------------------------------------------------------------------------------
export const host = config.host;
export const location = config.location;
export const preflightReport = platform.preflight.report;
export const sysctlProfile = platform.kernel.profile;
export const k3sVersion = platform.cluster.version;
export const kubeconfig = platform.kubeconfig;
export const kubeconfigExpiresAt = platform.cluster.kubeconfigExpiresAt;
export const openfaasEdition = config.openfaas.edition;
export const gatewayUrl = platform.openfaas.gatewayUrl;
export const asyncUrlPattern = platform.queues.asyncUrlPattern;
export const basicAuthPassword = platform.openfaas.basicAuthPassword;
export const functionNames = platform.functions.names;
export const sovereignVolumes = platform.sovereignVolumes;
export const publicUrl = platform.publicUrl;
export const tlsMode = platform.tlsMode;
export const certificateValidityEnd = platform.edge?.certificateValidityEnd;
