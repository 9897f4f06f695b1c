import { EnforcementLevel, PackConfig } from "./types";

/**
 * Defaults of the pack. US-owned object storage is matched by host suffix: a URL to any of
 * these moves data to a provider under the US CLOUD Act, wherever the region says it is.
 */
export const DEFAULT_CONFIG: PackConfig = {
    allowedCountries: ["NO"],
    allowedRegions: [],
    sovereignRoots: ["/data/sovereign"],
    allowedEgressDomains: [".no"],
    clusterNamespaces: ["cert-manager", "default", "kube-system", "nginx-ingress", "openfaas", "openfaas-fn"],
    foreignStoragePatterns: [
        "amazonaws.com",
        "amazonaws.com.cn",
        "cloudfront.net",
        "blob.core.windows.net",
        "windows.net",
        "azure.com",
        "storage.googleapis.com",
        "googleapis.com",
        "digitaloceanspaces.com",
        "r2.cloudflarestorage.com",
        "backblazeb2.com",
        "wasabisys.com",
        "oraclecloud.com",
        "appdomain.cloud",
        "linodeobjects.com",
    ],
};

/** JSON schema of the pack's settings (CrossGuard `configSchema`), with the defaults. */
export const CONFIG_SCHEMA_PROPERTIES = {
    allowedCountries: { type: "array", items: { type: "string", pattern: "^[A-Z]{2}$" }, default: DEFAULT_CONFIG.allowedCountries },
    allowedRegions: { type: "array", items: { type: "string", pattern: "^[A-Z]{2}-[A-Z0-9]{1,3}$" }, default: DEFAULT_CONFIG.allowedRegions },
    sovereignRoots: { type: "array", items: { type: "string" }, default: DEFAULT_CONFIG.sovereignRoots },
    allowedEgressDomains: { type: "array", items: { type: "string" }, default: DEFAULT_CONFIG.allowedEgressDomains },
    clusterNamespaces: { type: "array", items: { type: "string" }, default: DEFAULT_CONFIG.clusterNamespaces },
    foreignStoragePatterns: { type: "array", items: { type: "string" }, default: DEFAULT_CONFIG.foreignStoragePatterns },
} as const;

/** Merges user settings over the defaults. */
export function resolveConfig(partial: Partial<Record<keyof PackConfig, unknown>> = {}): PackConfig {
    const out: Record<string, readonly string[]> = { ...DEFAULT_CONFIG };
    for (const key of Object.keys(DEFAULT_CONFIG) as (keyof PackConfig)[]) {
        const v = partial[key];
        if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
            out[key] = v;
        }
    }
    return out as unknown as PackConfig;
}

/** Parses a `--policy-pack-config` document: `{ "<policy>": "mandatory" | { enforcementLevel, ...settings }, "all": ... }`. */
export function parsePackConfig(doc: unknown): { config: PackConfig; levels: Record<string, EnforcementLevel> } {
    const levels: Record<string, EnforcementLevel> = {};
    let settings: Record<string, unknown> = {};
    if (typeof doc === "object" && doc !== null) {
        for (const [policy, value] of Object.entries(doc as Record<string, unknown>)) {
            if (typeof value === "string") {
                levels[policy] = value as EnforcementLevel;
            } else if (typeof value === "object" && value !== null) {
                const { enforcementLevel, ...rest } = value as Record<string, unknown>;
                if (typeof enforcementLevel === "string") {
                    levels[policy] = enforcementLevel as EnforcementLevel;
                }
                settings = { ...settings, ...rest };
            }
        }
    }
    return { config: resolveConfig(settings), levels };
}
