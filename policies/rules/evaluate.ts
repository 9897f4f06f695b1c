import { DEFAULT_CONFIG, PackSettings } from "./config";
import { EnforcementLevel, ResourceView, Rule, UnknownAtPreview } from "./types";

/** One verdict line of policy.json. */
export interface PolicyResult {
    readonly policy: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly type: string;
    readonly name: string;
    readonly message: string;
}

/**
 * Runs the rules over resources, the way CrossGuard would: each rule at its level, with its own
 * settings. Disabled rules are skipped; a rule missing from `pack` runs at its default level with
 * the default settings.
 */
export function evaluateRules(rules: readonly Rule[], resources: readonly ResourceView[], pack: Partial<PackSettings> = {}): PolicyResult[] {
    const results: PolicyResult[] = [];
    for (const rule of rules) {
        const level = pack.levels?.[rule.name] ?? rule.enforcementLevel;
        if (level === "disabled") {
            continue;
        }
        const config = pack.settings?.[rule.name] ?? DEFAULT_CONFIG;
        if (rule.checkResource !== undefined) {
            for (const r of resources) {
                let messages: string[];
                try {
                    messages = rule.checkResource(r, config);
                } catch (err) {
                    if (!(err instanceof UnknownAtPreview)) {
                        throw err;
                    }
                    // As CrossGuard does with an unknown value: advisory, and said, never a silent pass.
                    results.push({ policy: rule.name, enforcementLevel: "advisory", type: r.type, name: r.name, message: `can't run policy '${rule.name}' during preview: ${err.message}` });
                    continue;
                }
                for (const message of messages) {
                    results.push({ policy: rule.name, enforcementLevel: level, type: r.type, name: r.name, message });
                }
            }
        }
        if (rule.checkStack !== undefined) {
            for (const v of rule.checkStack(resources, config)) {
                results.push({ policy: rule.name, enforcementLevel: level, type: v.resource.type, name: v.resource.name, message: v.message });
            }
        }
    }
    return results;
}
