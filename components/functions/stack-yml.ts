/**
 * Parses a faas-cli stack.yml with faas-cli's semantics (version 1.0, provider openfaas,
 * environment substitution before parsing, environment < environment_file). Pure: the file
 * reader and the environment are passed in. Every problem names the file, the function and
 * the field; unknown keys are warnings, build-only keys are ignored.
 */
import * as yaml from "js-yaml";
import * as path from "path";

import { isDns1123Label, isRecord, Problem } from "../shared/validation";
import { envsubst } from "./envsubst";

/** Keys faas-cli uses only to build images; deploying ignores them. */
export const BUILD_ONLY_KEYS = [
    "build_args",
    "build_options",
    "build_secrets",
    "handler",
    "lang",
    "platforms",
    "skip_build",
    "template",
] as const;
/** Keys we deploy from. */
export const DEPLOY_KEYS = [
    "annotations",
    "constraints",
    "environment",
    "environment_file",
    "fprocess",
    "image",
    "labels",
    "limits",
    "namespace",
    "readonly_root_filesystem",
    "requests",
    "secrets",
] as const;

export interface ResourceList {
    readonly memory?: string;
    readonly cpu?: string;
}

/** One function of the stack, normalized. */
export interface FunctionSpec {
    readonly name: string;
    readonly image: string;
    readonly fprocess?: string;
    /** environment, then environment_file, merged (later wins). */
    readonly environment: Readonly<Record<string, string>>;
    readonly secrets: readonly string[];
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly limits: ResourceList;
    readonly requests: ResourceList;
    readonly readonlyRootFilesystem: boolean;
    /** From `constraints`, as a nodeSelector. */
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly namespace?: string;
}

export interface StackYml {
    readonly functions: FunctionSpec[];
    readonly warnings: string[];
    readonly problems: Problem[];
}

export interface ParseStackOptions {
    /** The file's path as the user named it (used in messages and for environment_file). */
    readonly file: string;
    /** Variables for substitution (the process environment). */
    readonly env: Readonly<Record<string, string | undefined>>;
    /** Reads a file; returns undefined when it does not exist. */
    readonly readFile: (path: string) => string | undefined;
}

const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/;
const CPU = /^(\d+m|\d+(\.\d+)?)$/;

/** faas-cli users write docker-style `128m` for memory; Kubernetes reads that as 0.128 bytes. */
export function normalizeMemory(value: string): { value: string; converted: boolean } {
    const m = /^(\d+)m$/.exec(value);
    return m ? { value: `${m[1]}Mi`, converted: true } : { value, converted: false };
}

function stringMap(value: unknown): Record<string, string> | undefined {
    if (!isRecord(value)) {
        return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
        if (v === null || typeof v === "object") {
            return undefined;
        }
        out[k] = String(v);
    }
    return out;
}

/** Parses the stack file text. */
export function parseStackYml(text: string, opts: ParseStackOptions): StackYml {
    const problems: Problem[] = [];
    const warnings: string[] = [];
    const where = (fn?: string, field?: string): string => `${opts.file}${fn ? `: functions.${fn}` : ""}${field ? `.${field}` : ""}`;
    const add = (key: string, value: unknown, rule: string, fix: string): void => {
        problems.push({ key, value, rule, fix });
    };

    let doc: unknown;
    try {
        doc = yaml.load(envsubst(text, opts.env), { filename: opts.file });
    } catch (err) {
        const e = err as yaml.YAMLException;
        const line = e.mark ? e.mark.line + 1 : undefined;
        add(`${opts.file}${line ? ` line ${line}` : ""}`, e.reason ?? e.message, "is not valid YAML", "fix the syntax at that line (indentation, a missing ':' or an unclosed quote)");
        return { functions: [], warnings, problems };
    }
    if (!isRecord(doc)) {
        add(opts.file, doc, "must be a faas-cli stack file (a YAML map with version, provider and functions)", "see https://docs.openfaas.com/reference/yaml/");
        return { functions: [], warnings, problems };
    }
    // YAML reads `version: 1.0` as the number 1; faas-cli accepts both spellings.
    if (doc.version !== 1 && doc.version !== "1.0") {
        add(`${opts.file}: version`, doc.version, 'must be "1.0"', "set version: 1.0");
    }
    const provider = isRecord(doc.provider) ? doc.provider : {};
    if (provider.name !== "openfaas") {
        add(`${opts.file}: provider.name`, provider.name, "must be openfaas (this platform runs OpenFaaS, not another provider)", "set provider.name: openfaas");
    }
    if (!isRecord(doc.functions)) {
        add(`${opts.file}: functions`, doc.functions, "must be a map of function name to its settings", "add a functions: map");
        return { functions: [], warnings, problems };
    }

    const dir = path.posix.dirname(opts.file.split(path.sep).join("/"));
    const functions: FunctionSpec[] = [];
    for (const [name, raw] of Object.entries(doc.functions)) {
        if (!isDns1123Label(name)) {
            add(where(name), name, "a function name must be DNS-1123: lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit", "rename it, e.g. " + name.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, 63));
            continue;
        }
        if (!isRecord(raw)) {
            add(where(name), raw, "must be a map of settings", "indent the function's settings under its name");
            continue;
        }
        for (const key of Object.keys(raw)) {
            if (!(DEPLOY_KEYS as readonly string[]).includes(key) && !(BUILD_ONLY_KEYS as readonly string[]).includes(key)) {
                warnings.push(`${where(name, key)}: unknown key, ignored`);
            }
        }
        if (typeof raw.image !== "string" || raw.image.trim() === "") {
            add(where(name, "image"), raw.image, "is required: the container image to run", "set image: registry/name:tag");
        } else if (!raw.image.includes(":") || raw.image.endsWith(":latest")) {
            warnings.push(`${where(name, "image")}: ${raw.image} is not pinned to a tag; pin it so a re-deploy cannot change the code`);
        }

        const environment: Record<string, string> = {};
        if (raw.environment !== undefined) {
            const env = stringMap(raw.environment);
            if (env === undefined) {
                add(where(name, "environment"), raw.environment, "must be a map of names to plain values", "write NAME: value pairs");
            } else {
                Object.assign(environment, env);
            }
        }
        if (raw.environment_file !== undefined) {
            const files = Array.isArray(raw.environment_file) ? raw.environment_file : [raw.environment_file];
            for (const f of files) {
                if (typeof f !== "string") {
                    add(where(name, "environment_file"), f, "must list file paths", "write a list of YAML files");
                    continue;
                }
                const p = path.posix.isAbsolute(f) ? f : path.posix.join(dir, f);
                const content = opts.readFile(p);
                if (content === undefined) {
                    add(where(name, "environment_file"), f, `file not found (looked for ${p}, relative to the stack file)`, "create it or fix the path");
                    continue;
                }
                let parsed: unknown;
                try {
                    parsed = yaml.load(envsubst(content, opts.env));
                } catch (err) {
                    add(where(name, "environment_file"), f, `is not valid YAML: ${(err as Error).message.split("\n")[0]}`, "fix the file");
                    continue;
                }
                const vars = isRecord(parsed) && isRecord(parsed.environment) ? stringMap(parsed.environment) : stringMap(parsed);
                if (vars === undefined) {
                    add(where(name, "environment_file"), f, "must hold `environment:` with NAME: value pairs", "write it like faas-cli's env files");
                    continue;
                }
                Object.assign(environment, vars);
            }
        }

        const labels = raw.labels === undefined ? {} : stringMap(raw.labels);
        if (labels === undefined) {
            add(where(name, "labels"), raw.labels, "must be a map of plain values", "write key: value pairs");
        }
        const annotations = raw.annotations === undefined ? {} : stringMap(raw.annotations);
        if (annotations === undefined) {
            add(where(name, "annotations"), raw.annotations, "must be a map of plain values", "write key: value pairs");
        }

        const resources = (field: "limits" | "requests"): ResourceList => {
            const value = raw[field];
            if (value === undefined) {
                return {};
            }
            if (!isRecord(value)) {
                add(where(name, field), value, "must be a map with memory and cpu", `write ${field}: { memory: 128Mi, cpu: 100m }`);
                return {};
            }
            const out: { memory?: string; cpu?: string } = {};
            if (value.memory !== undefined) {
                const mem = String(value.memory);
                if (!MEMORY.test(mem)) {
                    add(where(name, `${field}.memory`), value.memory, "must be a Kubernetes quantity such as 128Mi or 1Gi", "use Mi or Gi");
                } else {
                    const n = normalizeMemory(mem);
                    if (n.converted) {
                        warnings.push(`${where(name, `${field}.memory`)}: "${mem}" read as ${n.value} (Kubernetes would read ${mem} as millibytes); write ${n.value}`);
                    }
                    out.memory = n.value;
                }
            }
            if (value.cpu !== undefined) {
                const cpu = String(value.cpu);
                if (!CPU.test(cpu)) {
                    add(where(name, `${field}.cpu`), value.cpu, "must be a CPU quantity such as 100m or 0.5", "use millicores (100m) or cores (0.5)");
                } else {
                    out.cpu = cpu;
                }
            }
            return out;
        };

        const secrets: string[] = [];
        if (raw.secrets !== undefined) {
            if (!Array.isArray(raw.secrets) || !raw.secrets.every((s) => typeof s === "string" && isDns1123Label(s))) {
                add(where(name, "secrets"), raw.secrets, "must be a list of DNS-1123 secret names", "list names such as payment-api-key");
            } else {
                secrets.push(...(raw.secrets as string[]));
            }
        }

        const nodeSelector: Record<string, string> = {};
        if (raw.constraints !== undefined) {
            const list = Array.isArray(raw.constraints) ? raw.constraints : [];
            if (!Array.isArray(raw.constraints)) {
                add(where(name, "constraints"), raw.constraints, "must be a list", 'write - "key == value"');
            }
            for (const c of list) {
                const m = typeof c === "string" ? /^\s*([A-Za-z0-9./_-]+)\s*(?:==|=)\s*([A-Za-z0-9._-]+)\s*$/.exec(c) : null;
                if (!m) {
                    add(where(name, "constraints"), c, "must be `key == value` or `key=value` (a node label)", 'write e.g. "topology.kubernetes.io/region == NO-03"');
                    continue;
                }
                nodeSelector[m[1]] = m[2];
            }
        }

        if (raw.readonly_root_filesystem !== undefined && typeof raw.readonly_root_filesystem !== "boolean") {
            add(where(name, "readonly_root_filesystem"), raw.readonly_root_filesystem, "must be true or false", "write it without quotes");
        }
        if (raw.namespace !== undefined && typeof raw.namespace !== "string") {
            add(where(name, "namespace"), raw.namespace, "must be a namespace name", "write namespace: openfaas-fn");
        }

        functions.push({
            name,
            image: typeof raw.image === "string" ? raw.image : "",
            ...(typeof raw.fprocess === "string" ? { fprocess: raw.fprocess } : {}),
            environment,
            secrets,
            labels: labels ?? {},
            annotations: annotations ?? {},
            limits: resources("limits"),
            requests: resources("requests"),
            readonlyRootFilesystem: raw.readonly_root_filesystem === true,
            nodeSelector,
            ...(typeof raw.namespace === "string" ? { namespace: raw.namespace } : {}),
        });
    }
    return { functions, warnings, problems };
}
