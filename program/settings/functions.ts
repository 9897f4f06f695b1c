/** `sovereign-faas:functions` (the stack.yml), `functionSecrets`, `volumes` and `sovereignRoots`. */
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { DEFAULT_SOVEREIGN_ROOTS, FunctionSpec, isRecord, parseStackYml, SovereignVolume, validateVolumes } from "../../components";
import { ConfigReader, fullKey, PLAN_SECRET_PLACEHOLDER } from "../config-reader";

/** The stack file read when `sovereign-faas:functions` is not set. */
export const DEFAULT_STACK_FILE = "stack.yml";

export interface FunctionsSettings {
    /** The stack file as configured (relative to the project). */
    readonly file: string;
    readonly functions: FunctionSpec[];
    /** Secret name -> key -> value (secret). */
    readonly functionSecrets: Readonly<Record<string, Readonly<Record<string, pulumi.Output<string>>>>>;
    readonly volumes: SovereignVolume[];
    readonly sovereignRoots: readonly string[];
    /** Unknown keys and conversions: printed, not fatal. */
    readonly warnings: string[];
}

export interface FunctionsConfigOptions {
    /** The project directory (where Pulumi.yaml is). */
    readonly rootDir: string;
    /** Environment for stack.yml substitution. */
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly secret: (v: string) => pulumi.Output<string>;
}

function readIfExists(p: string): string | undefined {
    try {
        return fs.readFileSync(p, "utf8");
    } catch {
        return undefined;
    }
}

/** Reads and validates the stack.yml, the function secrets and the volumes. */
export function parseFunctionsConfig(r: ConfigReader, opts: FunctionsConfigOptions): FunctionsSettings {
    const file = r.string("functions") ?? DEFAULT_STACK_FILE;
    const abs = path.resolve(opts.rootDir, file);
    const text = readIfExists(abs);
    let functions: FunctionSpec[] = [];
    const warnings: string[] = [];
    if (text === undefined) {
        r.problems.add(fullKey("functions"), file, `the stack file does not exist (looked for ${abs})`, "point sovereign-faas:functions at your faas-cli stack.yml, relative to Pulumi.yaml");
    } else {
        const parsed = parseStackYml(text, {
            file,
            env: opts.env,
            readFile: (p) => readIfExists(path.resolve(opts.rootDir, p)),
        });
        r.problems.addAll(parsed.problems);
        warnings.push(...parsed.warnings);
        functions = parsed.functions;
    }

    const secrets: Record<string, Record<string, pulumi.Output<string>>> = {};
    const rawSecrets = r.structured("functionSecrets");
    if (rawSecrets !== undefined && rawSecrets !== PLAN_SECRET_PLACEHOLDER) {
        if (!isRecord(rawSecrets)) {
            r.problems.add(fullKey("functionSecrets"), "[secret]", "must be a map of secret name to { key: value }", "pulumi config set --secret --path 'sovereign-faas:functionSecrets.<name>.<key>' <value>");
        } else {
            for (const [name, values] of Object.entries(rawSecrets)) {
                if (values === PLAN_SECRET_PLACEHOLDER) {
                    secrets[name] = { value: opts.secret(PLAN_SECRET_PLACEHOLDER) };
                } else if (!isRecord(values) || !Object.values(values).every((v) => typeof v === "string")) {
                    r.problems.add(fullKey(`functionSecrets.${name}`), "[secret]", "must be a map of key to text", `set --path 'sovereign-faas:functionSecrets.${name}.<key>'`);
                } else {
                    secrets[name] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, opts.secret(v as string)]));
                }
            }
        }
    } else if (rawSecrets === PLAN_SECRET_PLACEHOLDER) {
        // The whole map is one secure value the plan cannot decrypt: give each referenced secret a placeholder.
        for (const s of new Set(functions.flatMap((f) => f.secrets))) {
            secrets[s] = { value: opts.secret(PLAN_SECRET_PLACEHOLDER) };
        }
    }
    for (const fn of functions) {
        for (const s of fn.secrets) {
            if (secrets[s] === undefined) {
                r.problems.add(fullKey(`functionSecrets.${s}`), undefined, `is needed by function ${fn.name} (${file}) but has no values`, `pulumi config set --secret --path 'sovereign-faas:functionSecrets.${s}.<key>' <value>`);
            }
        }
    }

    const rootsRaw = r.structured("sovereignRoots");
    const roots = r.stringList("sovereignRoots", rootsRaw) ?? [...DEFAULT_SOVEREIGN_ROOTS];
    roots.forEach((root, i) => {
        if (!path.posix.isAbsolute(root) || path.posix.normalize(root) !== root || root === "/" || root.endsWith("/") || root.startsWith("/var/lib/rancher")) {
            r.problems.add(fullKey(`sovereignRoots[${i}]`), root, "must be an absolute, normalized directory other than / and outside /var/lib/rancher", "use e.g. /data/sovereign");
        }
    });
    const { volumes, problems } = validateVolumes(r.structured("volumes"), {
        sovereignRoots: roots,
        functionNames: functions.map((f) => f.name),
        configKey: fullKey("volumes"),
    });
    r.problems.addAll(problems.items);
    return { file, functions, functionSecrets: secrets, volumes, sovereignRoots: roots, warnings };
}
