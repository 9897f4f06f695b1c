/**
 * Reads this stack's config from the Pulumi runtime into the raw form `parseStackConfig` takes.
 * The only place, with index.ts, that touches `pulumi.Config`.
 */
import * as pulumi from "@pulumi/pulumi";

import { ValidationError } from "../components";
import { PROJECT, RawConfig } from "./config-reader";

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
 * Turns a ValidationError into the error Pulumi prints without a stack trace, so `pulumi up`
 * shows the same list of problems the plan runner does.
 */
export function asRunError(err: unknown): unknown {
    if (err instanceof ValidationError) {
        return new pulumi.RunError(err.message);
    }
    return err;
}
