/**
 * The offline policy check: the pack's own rule functions (policies/rules, one code path) over
 * the recorded resources, plus the sovereignty report generated from the same records.
 */
import * as fs from "fs";
import * as path from "path";

import { DEFAULT_CONFIG, EnforcementLevel, evaluateRules, PackConfig, parsePackConfig, PolicyResult, ResourceView, RULES } from "../../policies/rules";
import { ResourceRecord } from "./recorder";
import { buildEvidence, Evidence, renderReportMarkdown, ReportContext, reportMeta } from "./report";
import { StackFileError } from "./stack-files";

export type { PolicyResult };

export interface PolicySettings {
    readonly config: PackConfig;
    readonly levels: Readonly<Record<string, EnforcementLevel>>;
}

/** Reads a `--policy-pack-config` JSON file (the CLI's format); a bad file is an input error. */
export function loadPolicyConfig(file: string): PolicySettings {
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new StackFileError(`--policy-pack-config ${file}: ${(err as Error).message}`);
    }
    return parsePackConfig(doc);
}

function views(records: readonly ResourceRecord[]): ResourceView[] {
    return records.filter((r) => r.custom !== false).map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
}

/** Every violation, as policy.json lists them. */
export function evaluatePolicies(records: readonly ResourceRecord[], settings: PolicySettings = { config: DEFAULT_CONFIG, levels: {} }): PolicyResult[] {
    return evaluateRules(RULES, views(records), settings.config, settings.levels);
}

/** 1 when any mandatory rule failed. */
export function policyExitCode(results: readonly PolicyResult[]): number {
    return results.some((r) => r.enforcementLevel === "mandatory") ? 1 : 0;
}

/** The report's evidence and Markdown for a plan. */
export function renderSovereigntyReport(records: readonly ResourceRecord[], results: readonly PolicyResult[], ctx: ReportContext, config: PackConfig = DEFAULT_CONFIG): { markdown: string; json: Evidence } {
    const evidence = buildEvidence(records, RULES, results, reportMeta(ctx, records));
    return { markdown: renderReportMarkdown(evidence, config), json: evidence };
}

export interface PolicyOutputs {
    readonly exitCode: number;
    readonly results: PolicyResult[];
    /** Rules that ran (not disabled) and found nothing. */
    readonly rulesPassed: number;
    /** The report's warnings (a self-signed certificate on a production stack, ...). */
    readonly warnings: string[];
}

/** Writes policy.json and the sovereignty report; returns the exit code (1 on mandatory violations). */
export function writePolicyOutputs(outDir: string, records: readonly ResourceRecord[], stack: string, settings: PolicySettings | undefined, ctx: { dir: string }): PolicyOutputs {
    const s = settings ?? { config: DEFAULT_CONFIG, levels: {} };
    const results = evaluatePolicies(records, s);
    const report = renderSovereigntyReport(records, results, { dir: ctx.dir, stack }, s.config);
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "policy.json"), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, "sovereignty-report.md"), report.markdown);
    fs.writeFileSync(path.join(outDir, "sovereignty-report.json"), `${JSON.stringify(report.json, null, 2)}\n`);
    const active = RULES.filter((r) => (s.levels[r.name] ?? s.levels.all ?? r.enforcementLevel) !== "disabled");
    const failed = new Set(results.map((r) => r.policy));
    return { exitCode: policyExitCode(results), results, rulesPassed: active.filter((r) => !failed.has(r.name)).length, warnings: report.json.warnings };
}
