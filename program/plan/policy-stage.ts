/**
 * The offline policy check: the pack's own rule functions (policies/rules, one code path) over
 * the recorded resources, plus the sovereignty report generated from the same records.
 */
import * as fs from "fs";
import * as path from "path";

import { DEFAULT_CONFIG, defaultPackSettings, evaluateRules, PackConfig, PackSettings, parsePackConfig, PolicyResult, ResourceView, RULES } from "../../policies/rules";
import { PLAN_SECRET_PLACEHOLDER } from "../config-reader";
import { ResourceRecord } from "./recorder";
import { buildEvidence, Evidence, renderReportMarkdown, ReportContext, reportMeta } from "./report";
import { StackFileError } from "./stack-files";

export type { PolicyResult };

export type PolicySettings = PackSettings;

/** The largest `--policy-pack-config` file read (a config is a few kilobytes). */
export const MAX_POLICY_CONFIG_BYTES = 1024 * 1024;

/** Reads a `--policy-pack-config` JSON file (the CLI's format); a bad file or document is an input error, every problem at once. */
export function loadPolicyConfig(file: string): PolicySettings {
    let doc: unknown;
    try {
        const st = fs.statSync(file);
        if (!st.isFile()) {
            throw new Error("is not a regular file");
        }
        if (st.size > MAX_POLICY_CONFIG_BYTES) {
            throw new Error(`is ${st.size} bytes; the limit is ${MAX_POLICY_CONFIG_BYTES}`);
        }
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        // JSON.parse names the position, never the text around it.
        throw new StackFileError(`--policy-pack-config ${file}: ${(err as Error).message}`);
    }
    const parsed = parsePackConfig(doc, RULES);
    if (parsed.problems.length > 0) {
        throw new StackFileError(`--policy-pack-config ${file} is invalid (${parsed.problems.length} problem${parsed.problems.length === 1 ? "" : "s"}):\n  - ${parsed.problems.join("\n  - ")}`);
    }
    return { levels: parsed.levels, settings: parsed.settings };
}

/**
 * What the rules judge: each resource with its secrets in plain text, as CrossGuard hands them
 * (the engine sends secrets, and @pulumi/policy unwraps them). Records without plain inputs
 * (read back from a resources.json) are judged with their "[secret]" marks.
 */
function views(records: readonly ResourceRecord[]): ResourceView[] {
    return records.filter((r) => r.custom !== false).map((r) => ({ type: r.type, name: r.name, props: r.plainInputs ?? r.inputs }));
}

/** Secret strings shorter than this are not looked for in plain inputs (too likely to occur by chance). */
export const MIN_LEAK_LENGTH = 8;

/** A secret to look for: its plain text, and where it came from (a config path). */
export interface KnownSecret {
    readonly path: string;
    readonly value: string;
}

/**
 * Where a secret's plain text reaches an input that is not secret: a secure config value
 * substituted into a plain environment variable, a script, Helm values. The secrets are the
 * stack's decrypted secure values (a secret object, such as an SSH connection, also holds plain
 * parts like the host, so its parts are not secrets by themselves). Paths only, never the value.
 */
export function findSecretLeaks(records: readonly Pick<ResourceRecord, "name" | "type" | "inputs">[], secrets: readonly KnownSecret[]): string[] {
    const wanted = secrets.filter((s) => s.value.length >= MIN_LEAK_LENGTH && s.value !== PLAN_SECRET_PLACEHOLDER);
    if (wanted.length === 0) {
        return [];
    }
    const out: string[] = [];
    for (const r of records) {
        let budget = 500_000;
        let cut = false;
        const walk = (v: unknown, at: string, depth: number): void => {
            if (cut) {
                return;
            }
            if (--budget < 0 || depth > 128) {
                // Fail closed: inputs too large or deep to read might hold a secret.
                cut = true;
                out.push(`${r.type} ${r.name}: input ${at || "(root)"} is too large or too deeply nested to check for secure values`);
                return;
            }
            if (typeof v === "string") {
                const hit = wanted.find((s) => v.includes(s.value));
                if (hit !== undefined) {
                    out.push(`${r.type} ${r.name}: input ${at || "(root)"} holds, in plain text, the secure value of ${hit.path} (value not shown)`);
                }
            } else if (Array.isArray(v)) {
                v.forEach((x, i) => walk(x, `${at}[${i}]`, depth + 1));
            } else if (typeof v === "object" && v !== null) {
                for (const [k, x] of Object.entries(v)) {
                    walk(x, at === "" ? k : `${at}.${k}`, depth + 1);
                }
            }
        };
        walk(r.inputs, "", 0);
    }
    return out;
}

/** Replaces every secret's plain text in a message (defence in depth: the rules name fields, not secret values). */
export function scrubSecrets(message: string, secrets: readonly KnownSecret[]): string {
    let out = message;
    for (const s of secrets) {
        if (s.value.length < 4 || s.value === PLAN_SECRET_PLACEHOLDER) {
            continue;
        }
        // The value as printed raw, inside JSON (a program that echoes a structured value), and
        // line by line (a multi-line key printed in part), longest first.
        const forms = [s.value, JSON.stringify(s.value).slice(1, -1), ...s.value.split("\n").filter((l) => l.trim().length >= 8)];
        for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) {
            if (out.includes(form)) {
                out = out.split(form).join("[secret]");
            }
        }
    }
    return out;
}

export function evaluatePolicies(records: readonly ResourceRecord[], settings: PolicySettings = defaultPackSettings(RULES), secrets: readonly KnownSecret[] = []): PolicyResult[] {
    return evaluateRules(RULES, views(records), settings).map((r) => ({ ...r, message: scrubSecrets(r.message, secrets) }));
}

/** 1 when any mandatory rule failed. */
export function policyExitCode(results: readonly PolicyResult[]): number {
    return results.some((r) => r.enforcementLevel === "mandatory") ? 1 : 0;
}

/** The report's evidence and Markdown for a plan. */
export function renderSovereigntyReport(records: readonly ResourceRecord[], results: readonly PolicyResult[], ctx: ReportContext, config: PackConfig = DEFAULT_CONFIG): { markdown: string; json: Evidence } {
    const evidence = buildEvidence(records, RULES, results, reportMeta(ctx, records), config);
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
export function writePolicyOutputs(outDir: string, records: readonly ResourceRecord[], stack: string, settings: PolicySettings | undefined, ctx: { dir: string; secrets?: readonly KnownSecret[] }): PolicyOutputs {
    const s = settings ?? defaultPackSettings(RULES);
    const results = evaluatePolicies(records, s, ctx.secrets ?? []);
    const report = renderSovereigntyReport(records, results, { dir: ctx.dir, stack }, s.settings["host-in-allowed-country"] ?? DEFAULT_CONFIG);
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "policy.json"), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, "sovereignty-report.md"), report.markdown);
    fs.writeFileSync(path.join(outDir, "sovereignty-report.json"), `${JSON.stringify(report.json, null, 2)}\n`);
    const active = RULES.filter((r) => (s.levels[r.name] ?? r.enforcementLevel) !== "disabled");
    const failed = new Set(results.map((r) => r.policy));
    return { exitCode: policyExitCode(results), results, rulesPassed: active.filter((r) => !failed.has(r.name)).length, warnings: report.json.warnings };
}
