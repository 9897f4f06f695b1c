/**
 * Adapts the pure rules to CrossGuard policies: the same functions judge `pulumi preview
 * --policy-pack policies` and the offline plan. Each policy declares only the settings it reads
 * (its configSchema), and reads only its own (`getConfig` is per policy in CrossGuard).
 */
import { Policies, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";

import { CONFIG_SCHEMA_PROPERTIES, PackConfig, parsePackConfig, resolveConfig, RULES, Rule, UnknownAtPreview } from "./rules";

/**
 * The SDK's UnknownValueError and its string sentinel (@pulumi/policy proxy.js; the .d.ts
 * declares no members, hence require). server.js turns the error into an advisory "can't run
 * policy ... during preview" diagnostic.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkProxy = require("@pulumi/policy/proxy") as { UnknownValueError: new (sentinel: unknown, props: string[]) => Error; unknownStringValue: unknown };

function configOf(args: { getConfig<T extends object>(): T }): PackConfig {
    return resolveConfig(args.getConfig<Partial<Record<keyof PackConfig, unknown>>>());
}

/** The configSchema of a rule: its own settings, nothing else. */
export function configSchemaOf(rule: Rule): { properties: Record<string, never>; additionalProperties: false } {
    const properties = Object.fromEntries(rule.settings.map((s) => [s, CONFIG_SCHEMA_PROPERTIES[s]]));
    return { properties: properties as Record<string, never>, additionalProperties: false };
}

function toPolicy(rule: Rule): Policies[number] {
    const configSchema = configSchemaOf(rule);
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
            let messages: string[];
            try {
                messages = check({ type: args.type, name: args.name, props: args.props, urn: args.urn }, configOf(args));
            } catch (err) {
                // Under CrossGuard an unknown value throws the SDK's own UnknownValueError when it is
                // read; one the rule found itself becomes that error, so the engine reports both alike.
                if (err instanceof UnknownAtPreview) {
                    throw new sdkProxy.UnknownValueError(sdkProxy.unknownStringValue, [err.field]);
                }
                throw err;
            }
            for (const message of messages) {
                report(message);
            }
        },
    };
}

/** The CrossGuard policies of the pack. */
export const policies: Policies = RULES.map(toPolicy);

/**
 * The problems of the whole config the CLI hands the pack (the Configure request: every policy
 * with its defaults and what the document gave it, plus `all` and any unknown name the document
 * used; pkg/resource/analyzer/config.go ReconcilePolicyPackConfig/applyConfig). The CLI accepts
 * unknown names and settings in silence; the pack refuses them, with the offline parser's words.
 */
export function configureProblems(received: Record<string, Record<string, unknown>>): string[] {
    return parsePackConfig(received, RULES).problems;
}

interface ConfigureCall {
    request: { getPolicyconfigMap(): { entries(): Iterable<[string, { getProperties(): { toJavaScript(): Record<string, unknown> } | undefined; getEnforcementlevel(): number }]> } };
}
type Callback = (err: { code: number; details: string; message: string } | null, res?: unknown) => void;
type Handler = (call: ConfigureCall, cb: Callback) => void;

/** analyzer.proto EnforcementLevel numbers (ADVISORY = 0, MANDATORY = 1, DISABLED = 2, REMEDIATE = 3). */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate" };

/**
 * Wraps the Analyzer service's `configure` handler so the pack sees the whole config it is given.
 * @pulumi/policy 1.21.0 keeps that config in a module variable and hands each policy only its
 * own part (server.js `configure`, `makeGetConfigFun`): an unknown policy name is visible only in
 * the request. A config with problems is answered INVALID_ARGUMENT, and the CLI stops.
 */
export function guardConfigure(server: { prototype: { addService(service: unknown, impl: Record<string, unknown>): void } }): void {
    const addService = server.prototype.addService;
    server.prototype.addService = function (this: unknown, service: unknown, impl: Record<string, unknown>): void {
        const original = impl.configure as Handler | undefined;
        if (typeof original === "function") {
            impl = {
                ...impl,
                configure: (call: ConfigureCall, cb: Callback): void => {
                    const received: Record<string, Record<string, unknown>> = {};
                    for (const [name, cfg] of call.request.getPolicyconfigMap().entries()) {
                        const props = cfg.getProperties()?.toJavaScript() ?? {};
                        received[name] = { ...props, enforcementLevel: LEVEL_NAMES[cfg.getEnforcementlevel()] ?? cfg.getEnforcementlevel() };
                    }
                    const problems = configureProblems(received);
                    if (problems.length > 0) {
                        const details = `sovereign-faas policy pack config is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`;
                        cb({ code: 3, details, message: details });
                        return;
                    }
                    original(call, cb);
                },
            };
        }
        addService.call(this, service, impl);
    };
}
