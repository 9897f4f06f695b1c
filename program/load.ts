/**
 * Reads this stack's config from the Pulumi runtime into the raw form `parseStackConfig` takes.
 * The only place, with index.ts, that touches `pulumi.Config`.
 */
import * as pulumi from "@pulumi/pulumi";

import { ValidationError } from "../components";
import { PROJECT, RawConfig } from "./config-reader";
import { readSecureLeafPaths } from "./secure-leaves";

/**
 * All `sovereign-faas:*` keys, by short name. Which values are secret is decided by our schema
 * (SECRET_KEYS and the secret fields of structured keys), not by how the stack file stored them,
 * so a key pasted in plain text is still treated as a secret.
 */
export function readRawConfig(): RawConfig {
    const raw: Record<string, string> = {};
    const prefix = `${PROJECT}:`;
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) {
            raw[key.slice(prefix.length)] = value;
        }
    }
    return raw;
}

/**
 * Where this stack's secure values are, as config paths (`k3s.extraArgs.token`): the secure
 * leaves of the stack file in `dir`, and every key the runtime marks secret whose leaves the
 * file does not show (then the whole key counts as secret).
 */
export function readSecretPaths(dir: string): string[] {
    const leaves = readSecureLeafPaths(dir, pulumi.getStack()) ?? [];
    // @pulumi/pulumi runtime/config.js isConfigSecret (marked internal; PULUMI_CONFIG_SECRET_KEYS).
    const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    const out = new Set(leaves);
    for (const key of Object.keys(readRawConfig())) {
        const covered = leaves.some((l) => l === key || l.startsWith(`${key}.`) || l.startsWith(`${key}[`));
        if (!covered && isSecret?.(`${PROJECT}:${key}`) === true) {
            out.add(key);
        }
    }
    return [...out].sort();
}

/**
 * Turns a ValidationError into the error Pulumi prints without a stack trace, so `pulumi up`
 * shows the same list of problems the plan runner does.
 */
export function asRunError(err: unknown): unknown {
    if (err instanceof ValidationError) {
        return new pulumi.RunError(err.message);
    }
    return err;
}
