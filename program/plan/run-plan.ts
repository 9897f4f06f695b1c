/**
 * The offline plan: runs a Pulumi program under mocks with a stack's config and writes what it
 * would create. No Pulumi CLI, credentials or network. Any project works (`dir`): the mocks are
 * set on the project's own `@pulumi/pulumi`, resolved from its directory, so a consumer's program
 * and its copy of this library register with the same SDK the recorder listens to.
 */
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { ValidationError } from "../../components";
import { findSecretLeaks, loadPolicyConfig, PolicyResult, PolicySettings, scrubSecrets, writePolicyOutputs } from "./policy-stage";
import { PulumiSdk, Recorder, ResourceRecord } from "./recorder";
import { loadStackFiles, StackFileError } from "./stack-files";

export const EXIT_OK = 0;
export const EXIT_POLICY = 1;
export const EXIT_INVALID = 2;
/** Not the input's fault: a bug in the program or this library (the stack trace is printed). */
export const EXIT_BUG = 3;

export interface PlanOptions {
    /** The stack name, e.g. `prod`. */
    readonly stack: string;
    /** Where resources.json goes. @default <dir>/out/plan/<stack> */
    readonly out?: string;
    /** Directory with Pulumi.yaml and the program. @default the current directory */
    readonly dir?: string;
    /** A `--policy-pack-config` JSON file for the offline policy check. */
    readonly policyConfig?: string;
    /** Environment the stack files are read with (the passphrase). @default process.env */
    readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface PlanResult {
    readonly exitCode: number;
    /** Message for stderr when the exit code is not 0. */
    readonly message?: string;
    readonly resources: ResourceRecord[];
    /** Where the files went; undefined when nothing was written. */
    readonly outDir?: string;
    /** Policy violations (all levels). */
    readonly violations: PolicyResult[];
    /** Rules that ran and found nothing. */
    readonly rulesPassed: number;
    /** What the plan could not decide offline, and what the program warned about. */
    readonly warnings: string[];
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

/** The program a project runs: Pulumi.yaml `main` (a file, or a directory with index), else index.ts or index.js. */
export function programEntry(dir: string): string {
    const project = fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8");
    const main = /^main:\s*["']?([^"'\n#]+?)["']?\s*$/m.exec(project)?.[1];
    const base = main === undefined ? dir : path.resolve(dir, main);
    const candidates = fs.existsSync(base) && fs.statSync(base).isFile() ? [base] : ["index.ts", "index.js"].map((f) => path.join(base, f));
    const found = candidates.find((c) => fs.existsSync(c));
    if (found === undefined) {
        throw new StackFileError(`${dir}: no program found (looked for ${candidates.join(", ")}); set main: in Pulumi.yaml`);
    }
    return found;
}

/** The project's own @pulumi/pulumi, or this package's when the project has none of its own. */
function sdkOf(dir: string): { sdk: PulumiSdk & { log: typeof pulumi.log }; settings: { waitForRPCs(): Promise<void> } } {
    try {
        const main = require.resolve("@pulumi/pulumi", { paths: [dir] });
        const settingsPath = require.resolve("@pulumi/pulumi/runtime/settings", { paths: [dir] });
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the consumer's module, by path
        return { sdk: require(main) as typeof pulumi, settings: require(settingsPath) as { waitForRPCs(): Promise<void> } };
    } catch {
        throw new StackFileError(`${dir}: @pulumi/pulumi is not installed there (npm install @pulumi/pulumi)`);
    }
}

/** Lets Node load the project's TypeScript: tsx, a declared dependency of this package. */
function registerTypeScript(): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- tsx's CommonJS loader API
    const api = require("tsx/cjs/api") as { register(): unknown };
    api.register();
}

function failed(exitCode: number, message: string, resources: ResourceRecord[], warnings: string[]): PlanResult {
    return { exitCode, message, resources, violations: [], rulesPassed: 0, warnings };
}

/** Runs the plan. Never throws for bad input: it returns exit code 2 with the message. */
export async function runPlan(opts: PlanOptions): Promise<PlanResult> {
    const dir = path.resolve(opts.dir ?? process.cwd());
    const warnings: string[] = [];
    let recorder: Recorder | undefined;
    let settings: PolicySettings | undefined;
    let secretValues: ReadonlyArray<{ path: string; value: string }> = [];
    try {
        // The policy settings first: a bad --policy-pack-config is refused before anything runs.
        settings = opts.policyConfig === undefined ? undefined : loadPolicyConfig(opts.policyConfig);
        const files = loadStackFiles(dir, opts.stack, { env: opts.env ?? process.env });
        warnings.push(...files.warnings);
        secretValues = files.secretValues;
        const entry = programEntry(dir);
        const { sdk, settings: runtimeSettings } = sdkOf(dir);
        sdk.runtime.setAllConfig(files.config, files.secretKeys);
        recorder = await Recorder.start({ project: files.project, stack: opts.stack, preview: true, sdk, settle: () => runtimeSettings.waitForRPCs() });
        // What the program warns about is counted, and printed once, by the caller.
        sdk.log.warn = (message: string): Promise<void> => {
            warnings.push(message);
            return Promise.resolve();
        };
        if (entry.endsWith(".ts")) {
            registerTypeScript();
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program runs when it is loaded, as under the CLI
        require(entry);
        await recorder.settle();
    } catch (err) {
        if (isInputError(err)) {
            // Any program's message is scrubbed of the stack's secure values (it may echo them).
            return failed(EXIT_INVALID, scrubSecrets(err.message, secretValues), recorder?.records ?? [], warnings.map((w) => scrubSecrets(w, secretValues)));
        }
        if (err instanceof Error && secretValues.length > 0) {
            err.message = scrubSecrets(err.message, secretValues);
            err.stack = err.stack === undefined ? undefined : scrubSecrets(err.stack, secretValues);
        }
        throw err;
    }
    // A secret that reaches a plain input would be written in plain text to the state and the host.
    const leaks = findSecretLeaks(recorder.records, secretValues);
    if (leaks.length > 0) {
        return failed(
            EXIT_INVALID,
            [`Secret values reach plain inputs (${leaks.length}):`, ...leaks.map((l) => `  - ${l}`), "Fix: pass the value as a secret end to end (functionSecrets for functions), or drop --secret if it is not a secret."].join("\n"),
            recorder.records,
            warnings,
        );
    }
    const outDir = path.resolve(opts.out ?? path.join(dir, "out", "plan", opts.stack));
    const resources = recorder.records.map(({ type, name, parent, inputs, dependsOn, inputDependencies, urn, options }) => ({ type, name, parent, inputs, dependsOn, inputDependencies, urn, options }));
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "resources.json"), toJson(resources));
    const policy = writePolicyOutputs(outDir, recorder.records, opts.stack, settings, { dir, secrets: secretValues });
    const result = { resources: recorder.records, outDir, violations: policy.results, rulesPassed: policy.rulesPassed, warnings: [...warnings, ...policy.warnings].map((w) => scrubSecrets(w, secretValues)) };
    if (policy.exitCode !== EXIT_OK) {
        const lines = policy.results.filter((r) => r.enforcementLevel === "mandatory").map((r) => `  - [${r.policy}] ${r.type} ${r.name}: ${r.message}`);
        return { ...result, exitCode: EXIT_POLICY, message: [`Mandatory policy violations (${lines.length}):`, ...lines].join("\n") };
    }
    return { ...result, exitCode: EXIT_OK };
}

/** The summary line every exit prints on stdout. */
export function summaryLine(stack: string, r: Pick<PlanResult, "exitCode" | "resources" | "violations" | "rulesPassed" | "warnings" | "outDir">): string {
    const mandatory = r.violations.filter((v) => v.enforcementLevel === "mandatory").length;
    const advisory = r.violations.length - mandatory;
    const verdict = r.exitCode === EXIT_INVALID ? "refused (invalid config or input)" : r.exitCode === EXIT_POLICY ? "mandatory policy failed" : "planned";
    return (
        `plan for stack ${stack}: ${verdict}; ${r.resources.length} resources, ${mandatory} mandatory violation(s), ` +
        `${advisory} advisory finding(s), ${r.warnings.length} warning(s), ${r.rulesPassed} rule(s) passed -> ${r.outDir ?? "no files written"}`
    );
}

