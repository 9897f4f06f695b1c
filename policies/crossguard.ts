/**
 * Adapts the pure rules to CrossGuard policies: the same functions judge `pulumi preview
 * --policy-pack policies` and the offline plan. Each policy takes the pack's settings in its
 * configSchema; enforcement levels come from the policy pack config as usual.
 */
import { Policies, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";

import { CONFIG_SCHEMA_PROPERTIES, PackConfig, resolveConfig, RULES, Rule } from "./rules";

function configOf(args: { getConfig<T extends object>(): T }): PackConfig {
    return resolveConfig(args.getConfig<Partial<Record<keyof PackConfig, unknown>>>());
}

function toPolicy(rule: Rule): Policies[number] {
    const configSchema = { properties: CONFIG_SCHEMA_PROPERTIES as unknown as Record<string, never> };
    if (rule.checkStack !== undefined) {
        const check = rule.checkStack;
        return {
            name: rule.name,
            description: rule.description,
            enforcementLevel: rule.enforcementLevel,
            configSchema,
            validateStack: (args: StackValidationArgs, report: ReportViolation) => {
                const resources = args.resources.map((r) => ({ type: r.type, name: r.name, props: r.props, urn: r.urn }));
                for (const v of check(resources, configOf(args))) {
                    report(v.message, v.resource.urn);
                }
            },
        };
    }
    const check = rule.checkResource as NonNullable<Rule["checkResource"]>;
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        configSchema,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            for (const message of check({ type: args.type, name: args.name, props: args.props, urn: args.urn }, configOf(args))) {
                report(message);
            }
        },
    };
}

/** The CrossGuard policies of the pack. */
export const policies: Policies = RULES.map(toPolicy);
