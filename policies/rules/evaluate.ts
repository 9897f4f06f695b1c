import { EnforcementLevel, PackConfig, ResourceView, Rule } from "./types";

/** One verdict line of policy.json. */
export interface PolicyResult {
    readonly policy: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly type: string;
    readonly name: string;
    readonly message: string;
}

/** Runs the rules over resources, the way CrossGuard would. Disabled rules are skipped. */
export function evaluateRules(rules: readonly Rule[], resources: readonly ResourceView[], config: PackConfig, levels: Readonly<Record<string, EnforcementLevel>> = {}): PolicyResult[] {
    const results: PolicyResult[] = [];
    for (const rule of rules) {
        const level = levels[rule.name] ?? levels.all ?? rule.enforcementLevel;
        if (level === "disabled") {
            continue;
        }
        if (rule.checkResource !== undefined) {
            for (const r of resources) {
                for (const message of rule.checkResource(r, config)) {
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
