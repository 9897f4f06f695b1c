import { X509Certificate } from "crypto";
import * as yaml from "js-yaml";

import { JURISDICTION_LABEL, Location, REGION_LABEL } from "../shared/labels";
import { K3sArgValue, MANAGED_K3S_KEYS } from "./flags";

/** The pinned K3s release. A known release of the v1.33 line; bump deliberately (it upgrades in place). */
export const DEFAULT_K3S_VERSION = "v1.33.5+k3s1";
/** Where K3s reads its flags. Keeping them here makes installer re-runs idempotent. */
export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";
/** Where K3s writes the admin kubeconfig. */
export const K3S_KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";
/** Owner-only kubeconfig: it is cluster-admin. The seeds' 644 would let any local user read it. */
export const KUBECONFIG_MODE = "0600";
/** A pinned K3s version: `v1.33.5+k3s1`. */
export const K3S_VERSION_PATTERN = /^v\d+\.\d+\.\d+\+k3s\d+$/;

export interface K3sConfigOptions {
    /** The address clients use; added to the API certificate's SANs. */
    readonly host: string;
    readonly location: Location;
    /** Extra config.yaml keys (flag names without dashes), e.g. `{ "cluster-cidr": "10.42.0.0/16" }`. */
    readonly extraArgs?: Readonly<Record<string, K3sArgValue>>;
}

/**
 * Renders /etc/rancher/k3s/config.yaml: traefik and servicelb off (NGINX serves the host's ports), owner-only kubeconfig,
 * the host in the API certificate, secrets encrypted at rest, kernel defaults protected (the
 * kernel step runs first), and the node labelled with its region and jurisdiction.
 * Keys are sorted, so the same options give the same bytes.
 */
export function renderK3sConfig(opts: K3sConfigOptions): string {
    const managed: Record<string, unknown> = {
        // Traefik: NGINX is the edge. ServiceLB: nothing here is a LoadBalancer Service, the
        // edge serves the host's ports itself, and svclb pods would contend for 80/443.
        disable: ["servicelb", "traefik"],
        "node-label": [
            `${JURISDICTION_LABEL}=${opts.location.country}`,
            `${REGION_LABEL}=${opts.location.region}`,
        ],
        "protect-kernel-defaults": true,
        "secrets-encryption": true,
        "tls-san": [opts.host],
        "write-kubeconfig-mode": KUBECONFIG_MODE,
    };
    for (const key of Object.keys(opts.extraArgs ?? {})) {
        if ((MANAGED_K3S_KEYS as readonly string[]).includes(key)) {
            throw new Error(`k3s extraArgs may not set ${key}: sovereign-faas manages it`);
        }
    }
    const merged = { ...opts.extraArgs, ...managed };
    return (
        "# Managed by sovereign-faas (pulumi). Local edits are overwritten on the next `pulumi up`.\n" +
        yaml.dump(merged, { sortKeys: true, lineWidth: -1, quotingType: '"' })
    );
}

/**
 * When the kubeconfig's client certificate expires (its `client-certificate-data`), or undefined
 * when it authenticates otherwise. K3s issues client certificates for 365 days and renews them
 * when it starts within 90 days of expiry (docs.k3s.io/advanced, "Client and Server
 * certificates"); a copy of the admin kubeconfig, such as the stack's, is not renewed with them.
 */
export function kubeconfigClientCertificateExpiry(kubeconfig: string): Date | undefined {
    const data = /client-certificate-data:\s*([A-Za-z0-9+/=]+)/.exec(kubeconfig)?.[1];
    if (data === undefined) {
        return undefined;
    }
    try {
        return new Date(new X509Certificate(Buffer.from(data, "base64")).validTo);
    } catch {
        return undefined;
    }
}

/**
 * The drop-in for the flags whose values are secret (K3S_SECRET_DROPIN_PATH): written from the
 * install step's standard input, never its script, so no credential reaches a command line
 * (/proc/<pid>/cmdline), the script in the state, or a log.
 */
export function renderK3sSecretDropIn(values: Readonly<Record<string, K3sArgValue>>): string {
    return "# Managed by sovereign-faas (pulumi): secret K3s flags, from the stack's secure config.\n" + yaml.dump(values, { sortKeys: true, lineWidth: -1, quotingType: '"' });
}

/** Replaces the loopback server address K3s writes with the host clients reach. */
export function rewriteKubeconfigServer(kubeconfig: string, host: string): string {
    const hostPart = host.includes(":") ? `[${host}]` : host;
    return kubeconfig.replace(/server:\s*https:\/\/(127\.0\.0\.1|localhost|\[::1\]):6443/g, `server: https://${hostPart}:6443`);
}
