/**
 * The offline plan: runs the program under mocks with a stack's config and writes what it
 * would create. No Pulumi CLI, credentials or network.
 */
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { ValidationError } from "../../components";
import { loadPolicyConfig, PolicyResult, writePolicyOutputs } from "./policy-stage";
import { Recorder, ResourceRecord } from "./recorder";
import { loadStackFiles, StackFileError } from "./stack-files";

export const EXIT_OK = 0;
export const EXIT_POLICY = 1;
export const EXIT_INVALID = 2;

export interface PlanOptions {
    /** The stack name, e.g. `prod`. */
    readonly stack: string;
    /** Where resources.json goes. @default out/plan/<stack> */
    readonly out?: string;
    /** Directory with Pulumi.yaml and the program. @default the repository root */
    readonly dir?: string;
    /** A `--policy-pack-config` JSON file for the offline policy check. */
    readonly policyConfig?: string;
}

export interface PlanResult {
    readonly exitCode: number;
    /** Message for stderr when the exit code is not 0. */
    readonly message?: string;
    readonly resources: ResourceRecord[];
    readonly outDir: string;
    /** Policy violations (all levels). */
    readonly violations: PolicyResult[];
    /** What the plan could not decide offline (printed on stderr). */
    readonly warnings?: string[];
}

/** True for errors that mean "the input is wrong", which exit 2 with their message only. */
export function isInputError(err: unknown): err is Error {
    return (
        err instanceof ValidationError ||
        err instanceof StackFileError ||
        pulumi.RunError.isInstance(err) ||
        (err instanceof Error && (err.name === "ValidationError" || err.name === "StackFileError"))
    );
}

/** Stable JSON: the same plan gives the same bytes. */
export function toJson(value: unknown): string {
    return `${JSON.stringify(value, null, 2)}\n`;
}

/** Runs the plan. Never throws for bad input: it returns exit code 2 with the message. */
export async function runPlan(opts: PlanOptions): Promise<PlanResult> {
    const dir = path.resolve(opts.dir ?? path.join(__dirname, "..", ".."));
    const outDir = path.resolve(opts.out ?? path.join(dir, "out", "plan", opts.stack));
    let recorder: Recorder | undefined;
    const warnings: string[] = [];
    try {
        const files = loadStackFiles(dir, opts.stack);
        warnings.push(...files.warnings);
        pulumi.runtime.setAllConfig(files.config, files.secretKeys);
        recorder = await Recorder.start({ project: files.project, stack: opts.stack, preview: true });
        const program = path.join(dir, "index.ts");
        await import(program);
        await recorder.settle();
    } catch (err) {
        if (isInputError(err)) {
            return { exitCode: EXIT_INVALID, message: err.message, resources: recorder?.records ?? [], outDir, violations: [] };
        }
        throw err;
    }
    const resources = recorder.records.map(({ type, name, parent, inputs, dependsOn, urn, options }) => ({ type, name, parent, inputs, dependsOn, urn, options }));
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "resources.json"), toJson(resources));
    let settings;
    try {
        settings = opts.policyConfig === undefined ? undefined : loadPolicyConfig(opts.policyConfig);
    } catch (err) {
        return { exitCode: EXIT_INVALID, message: `--policy-pack-config ${opts.policyConfig}: ${(err as Error).message}`, resources: recorder.records, outDir, violations: [] };
    }
    const policy = writePolicyOutputs(outDir, recorder.records, opts.stack, settings);
    if (policy.exitCode !== EXIT_OK) {
        const lines = policy.results.filter((r) => r.enforcementLevel === "mandatory").map((r) => `  - [${r.policy}] ${r.type} ${r.name}: ${r.message}`);
        return { exitCode: EXIT_POLICY, message: [`Mandatory policy violations (${lines.length}):`, ...lines].join("\n"), resources: recorder.records, outDir, violations: policy.results };
    }
    return { exitCode: EXIT_OK, resources: recorder.records, outDir, violations: policy.results, warnings };
}
