/**
 * Parses a faas-cli stack.yml with faas-cli 0.18.12's semantics (its vendored go-sdk v0.2.22
 * stack parser): environment substitution over the whole file first (drone/envsubst, see
 * ./envsubst.ts), then YAML read as yaml.v3 reads it (scalars keep their written text, so
 * `VERSION: 1.10` stays "1.10"), `version` optional but "1.0" when set, `provider.name`
 * openfaas, a file without `functions` valid, environment < environment_file. Unknown keys are
 * warnings, as faas-cli ignores them, except likely misspellings of a known key, which are
 * errors: there we are stricter than faas-cli on purpose.
 *
 * Pure: the file reader and the environment are passed in. Bounded: the file size, the YAML's
 * expanded size and depth (alias bombs), the number of functions. Every problem names the file,
 * the function and the field; no problem or warning shows an environment value, a substituted
 * value or a file's text (any of them may be a secret).
 */
import * as yaml from "js-yaml";
import * as path from "path";

import {
    hasControlCharacters,
    isDns1035Label,
    isDns1123Label,
    isEnvVarName,
    isLabelValue,
    isQualifiedName,
    isQuantity,
    likelyMisspelling,
    parseImageReference,
    Problem,
} from "../shared/validation";
import { SCALE_MAX_LABEL, SCALE_MIN_LABEL } from "../shared/edition";
import { memoryMiB } from "../shared/quantity";
import { ENVSUBST_DEFAULT_MAX_OUTPUT_BYTES, EnvsubstError, envsubstReferences, executeEnvsubst, parseEnvsubst } from "./envsubst";

/** The largest stack file read: far above any real one (a 1000-function file is about 500 KiB). */
export const MAX_STACK_FILE_BYTES = 8 * 1024 * 1024;
/** The largest environment_file read. */
export const MAX_ENVIRONMENT_FILE_BYTES = 256 * 1024;
/**
 * The most functions one stack may hold. The program keeps every function's Deployment and
 * Service in memory, and `npm run bench` checks its targets (plan time, peak memory < 1 GiB) at
 * 1000 functions: more is not known to fit.
 */
export const MAX_FUNCTIONS = 1000;
/** The most YAML nodes a stack file may expand to, every use of an alias counted again. */
export const MAX_YAML_NODES = 1_000_000;
/** The deepest a stack file's YAML may nest, aliases expanded. */
export const MAX_YAML_DEPTH = 64;
/**
 * The longest function name: a function's pod mounts its secrets as the volume
 * `<name>-projected-secrets` (manifests.ts), and a volume name is a DNS-1123 label of at most 63.
 */
export const MAX_FUNCTION_NAME_LENGTH = 63 - "-projected-secrets".length;
/** The range of `com.openfaas.scale.min` / `.max`. */
export const MAX_SCALE_REPLICAS = 1000;

/** Keys faas-cli uses only to build images; deploying ignores them. */
export const BUILD_ONLY_KEYS = ["build_args", "build_options", "build_secrets", "handler", "lang", "platforms", "skip_build"] as const;
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
/** The keys faas-cli knows at the top of a stack file and under provider (go-sdk stack/schema.go). */
export const TOP_LEVEL_KEYS = ["configuration", "functions", "provider", "version"] as const;
export const PROVIDER_KEYS = ["gateway", "name"] as const;
const FUNCTION_KEYS: readonly string[] = [...DEPLOY_KEYS, ...BUILD_ONLY_KEYS];
const RESOURCE_KEYS = ["cpu", "memory"] as const;

/**
 * Name parts that mark a variable as a credential: substituting one would copy its value into a
 * Deployment's plain env. Matched anywhere in the name, case-insensitively (so API_KEY, APIKEY
 * and KEYCLOAK_URL all match: a false alarm costs a rename or a functionSecret, a miss leaks).
 */
export const CREDENTIAL_NAME_PARTS = [
    "AUTH",
    "CERT",
    "COOKIE",
    "CREDENTIAL",
    "KEY",
    "LICENCE",
    "LICENSE",
    "PASS",
    "PASSPHRASE",
    "PASSWD",
    "PASSWORD",
    "PRIVATE",
    "SECRET",
    "SESSION",
    "TOKEN",
] as const;
/** Prefixes of variables cloud and CI tools keep credentials in. */
export const CREDENTIAL_NAME_PREFIXES = ["ARM_", "AWS_", "AZURE_", "CLOUDSDK_", "GCP_", "GCLOUD_", "GH_", "GITHUB_", "GITLAB_", "GOOGLE_", "KUBE", "PULUMI_", "SSH_", "VAULT_"] as const;
/** Whole names that hold credentials or where to find them. */
export const CREDENTIAL_NAMES = ["DOCKER_CONFIG", "KUBECONFIG", "NETRC", "NPM_CONFIG_USERCONFIG", "PULUMI_CONFIG_PASSPHRASE"] as const;

/** Why a variable name looks like a credential, or undefined. */
export function credentialNameRule(name: string): string | undefined {
    const upper = name.toUpperCase();
    const exact = CREDENTIAL_NAMES.find((n) => n === upper);
    if (exact !== undefined) {
        return `${exact} holds credentials`;
    }
    const prefix = CREDENTIAL_NAME_PREFIXES.find((p) => upper.startsWith(p));
    if (prefix !== undefined) {
        return `names starting with ${prefix} hold cloud or CI credentials`;
    }
    const part = CREDENTIAL_NAME_PARTS.find((p) => upper.includes(p));
    return part !== undefined ? `its name contains ${part}` : undefined;
}

/** An allow-list entry: a variable name, or a prefix ending in `*` (`FN_*`). */
export const SUBSTITUTE_ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/** Whether the allow-list lets the stack file substitute `name`. */
export function isSubstitutionAllowed(name: string, allowList: readonly string[]): boolean {
    return allowList.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
}

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
    /**
     * How many keys faas-cli does not know (it ignores them): each is a warning, or a problem
     * when it looks like a misspelling of a known key.
     */
    readonly unknownKeys: number;
}

/** What a reader returns for a file it will not read (outside the project, not a regular file, too large). */
export interface FileRefusal {
    /** The rule, e.g. "is a FIFO, not a regular file". */
    readonly refused: string;
    readonly fix: string;
}

export interface ParseStackOptions {
    /** The file's path as the user named it (used in messages and for environment_file). */
    readonly file: string;
    /** Variables for substitution (the process environment). Only allowed ones are read. */
    readonly env: Readonly<Record<string, string | undefined>>;
    /**
     * Reads a file by its path relative to the project (the stack file's directory, when `file`
     * is absolute); returns undefined when it does not exist. Called for environment_file only,
     * with paths that stay inside the project.
     */
    readonly readFile: (path: string) => string | undefined | FileRefusal;
    /**
     * The variables the stack file may substitute: names, or prefixes ending in `*`. Any other
     * `${NAME}` is a problem, and so is a credential-like name even when listed.
     * @default [] (no substitution at all)
     */
    readonly substituteEnv?: readonly string[];
    /** How messages name the allow-list. @default "substituteEnv" */
    readonly substituteEnvKey?: string;
    /** How messages name the function secrets. @default "functionSecrets" */
    readonly functionSecretsKey?: string;
}

/** faas-cli users write docker-style `128m` for memory; Kubernetes reads that as 0.128 bytes. */
export function normalizeMemory(value: string): { value: string; converted: boolean } {
    const m = /^(\d+)m$/.exec(value);
    return m ? { value: `${m[1]}Mi`, converted: true } : { value, converted: false };
}

// ---------------------------------------------------------------------------------------------
// YAML as yaml.v3 reads it into faas-cli's typed structs: a plain scalar keeps its text, and the
// field's type decides what it means (`1.0` into a string is "1.0"; `yes` into a bool is true).

/** A plain (unquoted) scalar, as written. */
class PlainScalar {
    constructor(readonly text: string) {}

    // js-yaml turns a key into a string with String(): keep the text (an object with the default
    // tag would become "[object Object]").
    get [Symbol.toStringTag](): string {
        return "PlainScalar";
    }

    toString(): string {
        return this.text;
    }
}

// js-yaml exports its built-in types as `types`; @types/js-yaml does not declare them.
const types = (yaml as unknown as { types: Record<"merge" | "null" | "bool" | "int" | "float" | "timestamp" | "binary", yaml.Type> }).types;

const plain = (tag: string, base: yaml.Type): yaml.Type =>
    new yaml.Type(tag, { kind: "scalar", resolve: (d: string) => base.resolve(d), construct: (d: string) => new PlainScalar(d) });

const STACK_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({
    // Merge keys first, so `<<` is one; every other plain scalar keeps its text.
    implicit: [types.merge, new yaml.Type("tag:sovereign-faas,2026:plain", { kind: "scalar", resolve: () => true, construct: (d: string) => new PlainScalar(d) })],
    explicit: [
        plain("tag:yaml.org,2002:null", types.null),
        plain("tag:yaml.org,2002:bool", types.bool),
        plain("tag:yaml.org,2002:int", types.int),
        plain("tag:yaml.org,2002:float", types.float),
        plain("tag:yaml.org,2002:timestamp", types.timestamp),
        new yaml.Type("tag:yaml.org,2002:binary", {
            kind: "scalar",
            resolve: (d: string) => types.binary.resolve(d),
            construct: (d: string) => Buffer.from(d.replace(/\s/g, ""), "base64").toString("utf8"),
        }),
    ],
});

const NULL_WORDS = new Set(["", "~", "null", "Null", "NULL"]);
const TRUE_WORDS = new Set(["true", "True", "TRUE"]);
const FALSE_WORDS = new Set(["false", "False", "FALSE"]);
// yaml.v3 accepts YAML 1.1 booleans when it decodes into a bool (decode.go), quoted or not.
const YAML11_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"]);
const YAML11_FALSE = new Set(["n", "N", "no", "No", "NO", "off", "Off", "OFF"]);

type Node = { kind: "null" } | { kind: "scalar"; text: string; plain: boolean } | { kind: "map"; map: Record<string, unknown> } | { kind: "seq"; items: unknown[] };

function nodeOf(v: unknown): Node {
    if (v === null || v === undefined) {
        return { kind: "null" };
    }
    if (v instanceof PlainScalar) {
        return NULL_WORDS.has(v.text) ? { kind: "null" } : { kind: "scalar", text: v.text, plain: true };
    }
    if (typeof v === "string") {
        return { kind: "scalar", text: v, plain: false };
    }
    if (Array.isArray(v)) {
        return { kind: "seq", items: v };
    }
    if (typeof v === "object") {
        return { kind: "map", map: v as Record<string, unknown> };
    }
    return { kind: "scalar", text: String(v), plain: true };
}

/** Own keys only: a key named like an Object.prototype member is an ordinary key here. */
function own(map: Record<string, unknown>, key: string): unknown {
    return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

function has(map: Record<string, unknown>, key: string): boolean {
    return Object.prototype.hasOwnProperty.call(map, key);
}

/** Counts nodes as expanded (an alias each time it is used), iteratively, stopping at the budget. */
function measure(doc: unknown): { nodes: number; depth: number; over?: "nodes" | "depth" } {
    const stack: [unknown, number][] = [[doc, 1]];
    let nodes = 0;
    let deepest = 0;
    while (stack.length > 0) {
        const [v, depth] = stack.pop() as [unknown, number];
        nodes++;
        deepest = Math.max(deepest, depth);
        if (nodes > MAX_YAML_NODES) {
            return { nodes, depth: deepest, over: "nodes" };
        }
        if (depth > MAX_YAML_DEPTH) {
            return { nodes, depth: deepest, over: "depth" };
        }
        if (Array.isArray(v)) {
            for (let i = v.length - 1; i >= 0; i--) {
                stack.push([v[i], depth + 1]);
            }
        } else if (v !== null && typeof v === "object" && !(v instanceof PlainScalar)) {
            const values = Object.values(v as Record<string, unknown>);
            // Each key is a node too.
            nodes += values.length;
            for (let i = values.length - 1; i >= 0; i--) {
                stack.push([values[i], depth + 1]);
            }
        }
    }
    return { nodes, depth: deepest };
}

/** js-yaml's reason without the parts it quotes from the text (alias, tag or key names). */
function safeYamlReason(reason: string | undefined): string {
    const r = reason ?? "invalid YAML";
    const cut = [' "', " !<", ": "].map((m) => r.indexOf(m)).filter((i) => i >= 0);
    return (cut.length > 0 ? r.slice(0, Math.min(...cut)) : r).slice(0, 120);
}

// Narrowed with `in`, not `.ok`: without strictNullChecks (the language host's ts-node defaults
// when a project has no tsconfig.json) a boolean discriminant does not narrow.
type Loaded = { ok: true; doc: unknown } | { ok: false; problem: Problem };

/** Loads YAML text with the stack schema and the bounds; a problem names the line and column, never the text. */
function loadBounded(text: string, label: string): Loaded {
    let doc: unknown;
    try {
        doc = yaml.load(text, { schema: STACK_SCHEMA, maxDepth: MAX_YAML_DEPTH, maxTotalMergeKeys: MAX_YAML_NODES } as yaml.LoadOptions);
    } catch (err) {
        if (err instanceof yaml.YAMLException) {
            const at = err.mark ? ` line ${err.mark.line + 1}, column ${err.mark.column + 1}` : "";
            // Never err.message: it carries a snippet of the neighbouring lines.
            return {
                ok: false,
                problem: {
                    key: `${label}${at}`,
                    value: "[text not shown]",
                    rule: `is not valid YAML: ${safeYamlReason(err.reason)}`,
                    fix: "fix the syntax at that line (indentation, a missing ':' or an unclosed quote)",
                },
            };
        }
        return {
            ok: false,
            problem: { key: label, value: "[text not shown]", rule: "is too deeply nested or too complex to read as YAML", fix: "simplify the file" },
        };
    }
    const size = measure(doc);
    if (size.over === "nodes") {
        return {
            ok: false,
            problem: {
                key: label,
                value: `more than ${MAX_YAML_NODES} YAML nodes`,
                rule: `expands to more than ${MAX_YAML_NODES} YAML nodes, aliases counted each time they are used (an alias bomb)`,
                fix: "use anchors and aliases for shared settings only, not to multiply them",
            },
        };
    }
    if (size.over === "depth") {
        return {
            ok: false,
            problem: {
                key: label,
                value: `deeper than ${MAX_YAML_DEPTH} levels`,
                rule: `nests deeper than ${MAX_YAML_DEPTH} levels, aliases expanded`,
                fix: "a stack file needs a few levels: flatten it",
            },
        };
    }
    return { ok: true, doc };
}

// ---------------------------------------------------------------------------------------------

/** How a key or name appears in a message: printable and short, or quoted and escaped. */
function seg(k: string): string {
    if (/^[^\s\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]{1,100}$/u.test(k)) {
        return k;
    }
    const short = k.length > 100 ? `${k.slice(0, 100)}…` : k;
    return JSON.stringify(short).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A value as shown in a problem: at most 100 characters, no invisible controls. */
function shown(v: string): string {
    const short = v.length > 100 ? `${v.slice(0, 100)}…` : v;
    return short.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const HIDDEN = "[value not shown]";
const ANY_DIGITS = /^[0-9]+$/;

class Collector {
    readonly problems: Problem[] = [];
    readonly warnings: string[] = [];
    unknownKeys = 0;

    add(key: string, value: unknown, rule: string, fix: string): void {
        this.problems.push({ key, value, rule, fix });
    }

    /** A key faas-cli does not know: a warning, or a problem when it is a likely misspelling. */
    unknownKey(at: string, key: string, known: readonly string[]): void {
        this.unknownKeys++;
        const like = likelyMisspelling(key, known);
        if (like !== undefined) {
            this.add(at, key, `is not a key faas-cli knows, but looks like a misspelling of ${like} (faas-cli would silently ignore it)`, `rename it to ${like}`);
        } else {
            this.warnings.push(`${at}: unknown key, ignored`);
        }
    }
}

interface Context {
    readonly opts: ParseStackOptions;
    readonly c: Collector;
    /** The directory environment_file paths are relative to (project-relative, "." for the root). */
    readonly dir: string;
    /** Parsed environment files by path (a file shared by functions is read and reported once). */
    readonly envFiles: Map<string, Map<string, string> | undefined>;
}

/** A string field, as yaml.v3 decodes into a Go string: null is "", a map or list is an error. */
function stringField(ctx: Context, at: string, v: unknown, opts: { hide?: boolean; fix: string }): string | undefined {
    const n = nodeOf(v);
    if (n.kind === "null") {
        return "";
    }
    if (n.kind !== "scalar") {
        ctx.c.add(at, opts.hide ? HIDDEN : n.kind === "map" ? "(a map)" : "(a list)", "must be a text", opts.fix);
        return undefined;
    }
    if (hasControlCharacters(n.text)) {
        ctx.c.add(at, HIDDEN, "contains a control character (NUL, escape, DEL, a bidirectional override, ...)", "remove it; write plain text");
        return undefined;
    }
    return n.text;
}

/** A bool field, as yaml.v3 decodes into a Go bool. */
function boolField(ctx: Context, at: string, v: unknown): boolean | undefined {
    const n = nodeOf(v);
    if (n.kind === "null") {
        return false;
    }
    if (n.kind === "scalar") {
        if (n.plain && TRUE_WORDS.has(n.text)) {
            return true;
        }
        if (n.plain && FALSE_WORDS.has(n.text)) {
            return false;
        }
        if (YAML11_TRUE.has(n.text)) {
            return true;
        }
        if (YAML11_FALSE.has(n.text)) {
            return false;
        }
    }
    ctx.c.add(at, n.kind === "scalar" ? shown(n.text) : `(a ${n.kind === "map" ? "map" : "list"})`, "must be true or false (unquoted)", "write true or false without quotes");
    return undefined;
}

/** A list of strings ([]string). */
function stringListField(ctx: Context, at: string, v: unknown, fix: string): string[] | undefined {
    const n = nodeOf(v);
    if (n.kind === "null") {
        return [];
    }
    if (n.kind !== "seq") {
        ctx.c.add(at, n.kind === "scalar" ? shown(n.text) : "(a map)", "must be a list (faas-cli refuses anything else here)", fix);
        return undefined;
    }
    const out: string[] = [];
    let ok = true;
    n.items.forEach((item, i) => {
        const s = stringField(ctx, `${at}[${i}]`, item, { fix });
        if (s === undefined) {
            ok = false;
        } else {
            out.push(s);
        }
    });
    return ok ? out : undefined;
}

/** A map of strings (map[string]string); keys checked by `checkKey`, values hidden when `hide`. */
function stringMapField(
    ctx: Context,
    at: string,
    v: unknown,
    opts: { hide: boolean; fix: string; checkKey?: (key: string, keyAt: string) => boolean },
): Map<string, string> | undefined {
    const n = nodeOf(v);
    if (n.kind === "null") {
        return new Map();
    }
    if (n.kind !== "map") {
        ctx.c.add(at, opts.hide ? HIDDEN : n.kind === "scalar" ? shown(n.text) : "(a list)", "must be a map of names to texts", opts.fix);
        return undefined;
    }
    const out = new Map<string, string>();
    let ok = true;
    for (const key of Object.keys(n.map)) {
        const keyAt = `${at}.${seg(key)}`;
        if (opts.checkKey !== undefined && !opts.checkKey(key, keyAt)) {
            ok = false;
            continue;
        }
        const value = stringField(ctx, keyAt, n.map[key], { hide: opts.hide, fix: opts.fix });
        if (value === undefined) {
            ok = false;
            continue;
        }
        out.set(key, value);
    }
    return ok ? out : undefined;
}

function record(m: ReadonlyMap<string, string>): Record<string, string> {
    // Object.fromEntries defines properties: `__proto__` or `constructor` stay ordinary keys.
    return Object.fromEntries(m);
}

function envNameCheck(ctx: Context): (key: string, keyAt: string) => boolean {
    return (key, keyAt) => {
        if (!isEnvVarName(key)) {
            ctx.c.add(
                keyAt,
                seg(key),
                "must be an environment variable name (Kubernetes: letters, digits, '_', '-' and '.', not starting with a digit, not '.' or '..')",
                "rename the variable, e.g. LOG_LEVEL",
            );
            return false;
        }
        return true;
    };
}

function qualifiedNameCheck(ctx: Context, what: string): (key: string, keyAt: string) => boolean {
    return (key, keyAt) => {
        if (!isQualifiedName(key)) {
            ctx.c.add(
                keyAt,
                seg(key),
                `must be a Kubernetes ${what} key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
                `write it like com.openfaas.scale.min or example.no/${what === "label" ? "team" : "note"}`,
            );
            return false;
        }
        return true;
    };
}

/** Resolves an environment_file path inside the project, or reports why not. */
function envFilePath(ctx: Context, at: string, f: string): string | undefined {
    if (f === "" || f.includes("\0")) {
        ctx.c.add(at, shown(f), "must be a file path", "write a path relative to the stack file");
        return undefined;
    }
    if (path.posix.isAbsolute(f) || path.win32.isAbsolute(f) || f.startsWith("~")) {
        ctx.c.add(at, shown(f), "must be relative to the stack file: absolute paths (and ~) are refused so a stack cannot read files outside the project", "move the file into the project and name it relative to the stack file");
        return undefined;
    }
    const joined = path.posix.normalize(path.posix.join(ctx.dir, f.split("\\").join("/")));
    if (joined === ".." || joined.startsWith("../")) {
        ctx.c.add(at, shown(f), "must stay inside the project directory ('..' leads out of it)", "move the file into the project");
        return undefined;
    }
    return joined;
}

function readEnvFile(ctx: Context, at: string, f: string, p: string): Map<string, string> | undefined {
    if (ctx.envFiles.has(p)) {
        return ctx.envFiles.get(p);
    }
    const result = ((): Map<string, string> | undefined => {
        const content = ctx.opts.readFile(p);
        if (content === undefined) {
            ctx.c.add(at, shown(f), `file not found (looked for ${p}, relative to the stack file)`, "create it or fix the path");
            return undefined;
        }
        if (typeof content !== "string") {
            ctx.c.add(at, shown(f), content.refused, content.fix);
            return undefined;
        }
        if (Buffer.byteLength(content, "utf8") > MAX_ENVIRONMENT_FILE_BYTES) {
            ctx.c.add(at, shown(f), `is larger than ${MAX_ENVIRONMENT_FILE_BYTES} bytes (the environment_file limit)`, "keep environment files small; put data in a volume");
            return undefined;
        }
        // faas-cli reads environment files as they are (commands/deploy.go readFiles): no substitution.
        const loaded = loadBounded(content, p);
        if ("problem" in loaded) {
            ctx.c.problems.push(loaded.problem);
            return undefined;
        }
        const doc = nodeOf(loaded.doc);
        if (doc.kind === "null") {
            return new Map();
        }
        if (doc.kind !== "map") {
            ctx.c.add(p, HIDDEN, "must be a YAML map with environment: (as faas-cli's environment files are)", "write environment:, then NAME: value lines under it");
            return undefined;
        }
        for (const k of Object.keys(doc.map)) {
            if (k !== "environment") {
                ctx.c.unknownKey(`${p}: ${seg(k)}`, k, ["environment"]);
            }
        }
        if (!has(doc.map, "environment")) {
            ctx.c.add(p, HIDDEN, "has no environment: map: faas-cli reads only that key, so this file would set nothing", "write environment:, then NAME: value lines under it");
            return undefined;
        }
        const env = stringMapField(ctx, `${p}: environment`, own(doc.map, "environment"), { hide: true, fix: "write NAME: value pairs", checkKey: envNameCheck(ctx) });
        if (env !== undefined && [...env.values()].some((v) => v.includes("${"))) {
            ctx.c.warnings.push(`${p}: faas-cli does not substitute environment files; a \${...} there stays as written`);
        }
        return env;
    })();
    ctx.envFiles.set(p, result);
    return result;
}

function resources(ctx: Context, at: string, v: unknown): ResourceList {
    const n = nodeOf(v);
    if (n.kind === "null") {
        return {};
    }
    if (n.kind !== "map") {
        ctx.c.add(at, n.kind === "scalar" ? shown(n.text) : "(a list)", "must be a map with memory and cpu", `write ${at.split(".").pop()}: { memory: 128Mi, cpu: 100m }`);
        return {};
    }
    for (const k of Object.keys(n.map)) {
        if (!(RESOURCE_KEYS as readonly string[]).includes(k)) {
            ctx.c.unknownKey(`${at}.${seg(k)}`, k, RESOURCE_KEYS);
        }
    }
    const out: { memory?: string; cpu?: string } = {};
    const memAt = `${at}.memory`;
    const rawMem = own(n.map, "memory");
    if (rawMem !== undefined) {
        const mem = stringField(ctx, memAt, rawMem, { fix: "write memory: 128Mi" });
        if (mem !== undefined && mem !== "") {
            const norm = normalizeMemory(mem);
            if (!isQuantity(mem) || mem.startsWith("-")) {
                ctx.c.add(memAt, shown(mem), "must be a Kubernetes quantity such as 128Mi or 1Gi", "use Mi or Gi");
            } else if (memoryMiB(norm.value) === undefined) {
                // The platform adds memory requests up (the host's memory floor): it reads these forms.
                ctx.c.add(memAt, shown(mem), "must be a memory size with Ki, Mi, Gi, Ti, k, M, G, T or no suffix (no exponent, no Pi or Ei), such as 128Mi or 1Gi", "use Mi or Gi");
            } else {
                if (norm.converted) {
                    ctx.c.warnings.push(`${memAt}: "${mem}" read as ${norm.value} (Kubernetes would read ${mem} as millibytes); write ${norm.value}`);
                }
                out.memory = norm.value;
            }
        }
    }
    const cpuAt = `${at}.cpu`;
    const rawCpu = own(n.map, "cpu");
    if (rawCpu !== undefined) {
        const cpu = stringField(ctx, cpuAt, rawCpu, { fix: "write cpu: 100m" });
        if (cpu !== undefined && cpu !== "") {
            if (!isQuantity(cpu) || cpu.startsWith("-")) {
                ctx.c.add(cpuAt, shown(cpu), "must be a CPU quantity such as 100m or 0.5", "use millicores (100m) or cores (0.5)");
            } else {
                out.cpu = cpu;
            }
        }
    }
    return out;
}

function parseFunction(ctx: Context, name: string, raw: unknown): FunctionSpec | undefined {
    const { c, opts } = ctx;
    const where = (field?: string): string => `${opts.file}: functions.${seg(name)}${field ? `.${field}` : ""}`;
    // DNS-1035 (a DNS-1123 label that starts with a letter): the function's Service is named after it.
    if (!isDns1035Label(name) || name.length > MAX_FUNCTION_NAME_LENGTH) {
        const suggestion = name
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, "-")
            .replace(/^[^a-z]+|-+$/g, "")
            .slice(0, MAX_FUNCTION_NAME_LENGTH)
            .replace(/-+$/g, "");
        c.add(
            where(),
            shown(name),
            `a function name must be DNS-1123: lower-case letters, digits and '-', starting with a letter (it names the function's Service) and ending with a letter or digit, at most ${MAX_FUNCTION_NAME_LENGTH} characters (the pod's volume <name>-projected-secrets must stay within 63)`,
            `rename it, e.g. ${suggestion || "my-function"}`,
        );
        return undefined;
    }
    const fnNode = nodeOf(raw);
    if (fnNode.kind !== "map" && fnNode.kind !== "null") {
        c.add(where(), HIDDEN, "must be a map of settings", "indent the function's settings under its name");
        return undefined;
    }
    // yaml.v3 reads a function without settings as an empty one (which then lacks its image).
    const fn: Record<string, unknown> = fnNode.kind === "map" ? fnNode.map : {};
    for (const key of Object.keys(fn)) {
        if (!FUNCTION_KEYS.includes(key)) {
            c.unknownKey(where(seg(key)), key, FUNCTION_KEYS);
        }
    }

    // Build-only keys: faas-cli still decodes them, and refuses the file when a type is wrong.
    for (const key of ["lang", "handler", "platforms"] as const) {
        if (has(fn, key)) {
            stringField(ctx, where(key), own(fn, key), { fix: `write ${key}: <text>` });
        }
    }
    if (has(fn, "skip_build")) {
        boolField(ctx, where("skip_build"), own(fn, "skip_build"));
    }
    if (has(fn, "build_options")) {
        stringListField(ctx, where("build_options"), own(fn, "build_options"), "write a list of build option names");
    }
    for (const key of ["build_args", "build_secrets"] as const) {
        if (has(fn, key)) {
            stringMapField(ctx, where(key), own(fn, key), { hide: true, fix: "write NAME: value pairs" });
        }
    }

    let image = "";
    const rawImage = own(fn, "image");
    const img = rawImage === undefined ? "" : stringField(ctx, where("image"), rawImage, { fix: "write image: registry/name:tag" });
    if (img !== undefined) {
        if (img.trim() === "") {
            c.add(where("image"), rawImage === undefined ? undefined : shown(img), "is required: the container image to run", "set image: registry/name:tag");
        } else {
            const ref = parseImageReference(img);
            if (ref === undefined) {
                c.add(
                    where("image"),
                    shown(img),
                    "must be a Docker image reference: [registry[:port]/]lower-case/path[:tag][@sha256:<64 hex>] (a tag is letters, digits, '_', '.', '-', at most 128)",
                    "write e.g. ghcr.io/example-no/resize:1.0.0",
                );
            } else {
                image = img;
                if (ref.digest === undefined && (ref.tag === undefined || ref.tag === "latest")) {
                    c.warnings.push(`${where("image")}: ${img} is not pinned to a tag; pin it so a re-deploy cannot change the code`);
                }
            }
        }
    }

    let fprocess: string | undefined;
    if (has(fn, "fprocess")) {
        const f = stringField(ctx, where("fprocess"), own(fn, "fprocess"), { fix: 'write fprocess: "python index.py"' });
        if (f !== undefined && f !== "") {
            fprocess = f;
        }
    }

    const environment = new Map<string, string>();
    if (has(fn, "environment")) {
        const env = stringMapField(ctx, where("environment"), own(fn, "environment"), { hide: true, fix: "write NAME: value pairs", checkKey: envNameCheck(ctx) });
        env?.forEach((v, k) => environment.set(k, v));
    }
    if (has(fn, "environment_file")) {
        const files = stringListField(ctx, where("environment_file"), own(fn, "environment_file"), "write a list of YAML files, e.g. [env/common.yml]");
        (files ?? []).forEach((f, i) => {
            const at = where(`environment_file[${i}]`);
            const p = envFilePath(ctx, at, f);
            if (p === undefined) {
                return;
            }
            const vars = readEnvFile(ctx, at, f, p);
            vars?.forEach((v, k) => environment.set(k, v));
        });
    }

    const labels = has(fn, "labels")
        ? stringMapField(ctx, where("labels"), own(fn, "labels"), {
              hide: false,
              fix: "write key: value pairs",
              checkKey: qualifiedNameCheck(ctx, "label"),
          })
        : new Map<string, string>();
    if (labels !== undefined) {
        for (const [k, v] of labels) {
            if (!isLabelValue(v)) {
                c.add(where(`labels.${seg(k)}`), shown(v), "must be a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)", "shorten it, or use an annotation for free text");
            }
        }
        const scale: Record<string, number> = {};
        for (const k of [SCALE_MIN_LABEL, SCALE_MAX_LABEL]) {
            const v = labels.get(k);
            if (v === undefined) {
                continue;
            }
            if (!ANY_DIGITS.test(v) || Number(v) > MAX_SCALE_REPLICAS) {
                c.add(where(`labels.${k}`), shown(v), `must be a whole number of replicas from 0 to ${MAX_SCALE_REPLICAS}`, `write e.g. ${k}: "1"`);
            } else {
                scale[k] = Number(v);
            }
        }
        const min = scale[SCALE_MIN_LABEL];
        const max = scale[SCALE_MAX_LABEL];
        if (min !== undefined && max !== undefined && min > max) {
            c.add(where(`labels.${SCALE_MIN_LABEL}`), String(min), `must not be above ${SCALE_MAX_LABEL} (${max})`, `lower ${SCALE_MIN_LABEL} or raise ${SCALE_MAX_LABEL}`);
        }
    }
    const annotations = has(fn, "annotations")
        ? stringMapField(ctx, where("annotations"), own(fn, "annotations"), { hide: false, fix: "write key: value pairs", checkKey: qualifiedNameCheck(ctx, "annotation") })
        : new Map<string, string>();

    const limits = has(fn, "limits") ? resources(ctx, where("limits"), own(fn, "limits")) : {};
    const requests = has(fn, "requests") ? resources(ctx, where("requests"), own(fn, "requests")) : {};

    const secrets: string[] = [];
    if (has(fn, "secrets")) {
        const list = stringListField(ctx, where("secrets"), own(fn, "secrets"), "list names such as payment-api-key");
        (list ?? []).forEach((s, i) => {
            if (!isDns1123Label(s)) {
                c.add(where(`secrets[${i}]`), shown(s), "must be a DNS-1123 secret name (lower-case letters, digits and '-', at most 63)", "list names such as payment-api-key");
            } else if (!secrets.includes(s)) {
                secrets.push(s);
            }
        });
    }

    const nodeSelector = new Map<string, string>();
    if (has(fn, "constraints")) {
        const list = stringListField(ctx, where("constraints"), own(fn, "constraints"), 'write - "key == value"');
        (list ?? []).forEach((s, i) => {
            const m = /^\s*([A-Za-z0-9./_-]+)\s*(?:==|=)\s*([A-Za-z0-9._-]+)\s*$/.exec(s);
            if (!m || !isQualifiedName(m[1]) || !isLabelValue(m[2])) {
                c.add(where(`constraints[${i}]`), shown(s), "must be `key == value` or `key=value` (a node label)", 'write e.g. "topology.kubernetes.io/region == NO-03"');
                return;
            }
            nodeSelector.set(m[1], m[2]);
        });
    }

    let readonlyRootFilesystem = false;
    if (has(fn, "readonly_root_filesystem")) {
        readonlyRootFilesystem = boolField(ctx, where("readonly_root_filesystem"), own(fn, "readonly_root_filesystem")) === true;
    }
    let namespace: string | undefined;
    if (has(fn, "namespace")) {
        const ns = stringField(ctx, where("namespace"), own(fn, "namespace"), { fix: "write namespace: openfaas-fn" });
        if (ns !== undefined && ns !== "") {
            if (!isDns1123Label(ns)) {
                c.add(where("namespace"), shown(ns), "must be a namespace name (a DNS-1123 label)", "write namespace: openfaas-fn");
            } else {
                namespace = ns;
            }
        }
    }
    return {
        name,
        image,
        ...(fprocess !== undefined ? { fprocess } : {}),
        environment: record(environment),
        secrets,
        labels: record(labels ?? new Map()),
        annotations: record(annotations ?? new Map()),
        limits,
        requests,
        readonlyRootFilesystem,
        nodeSelector: record(nodeSelector),
        ...(namespace !== undefined ? { namespace } : {}),
    };
}

/** Substitutes the allowed variables into the text; reports every other reference. */
function substitute(text: string, opts: ParseStackOptions, c: Collector): string | undefined {
    const allow = opts.substituteEnv ?? [];
    const listKey = opts.substituteEnvKey ?? "substituteEnv";
    const secretsKey = opts.functionSecretsKey ?? "functionSecrets";
    let template;
    try {
        template = parseEnvsubst(text);
    } catch (err) {
        if (!(err instanceof EnvsubstError)) {
            throw err;
        }
        const at = err.position ? ` line ${err.position.line}, column ${err.position.column}` : "";
        c.add(
            `${opts.file}${at}`,
            "${",
            err.kind === "limit"
                ? `cannot be substituted: ${err.reason}`
                : `is not a substitution faas-cli can read: ${err.reason} (faas-cli runs drone/envsubst over the whole file, comments included, and refuses the file)`,
            "write $${ for a literal ${; a substitution is ${NAME}, ${NAME:-default}, ${NAME:=default} (bash's ${NAME-default}, ${NAME+x} and ${NAME?x} are not supported)",
        );
        return undefined;
    }
    const refs = envsubstReferences(template);
    const refused = new Set<string>();
    const seen = new Set<string>();
    for (const ref of refs) {
        if (seen.has(ref.name)) {
            continue;
        }
        seen.add(ref.name);
        const count = refs.filter((r) => r.name === ref.name).length;
        const at = `${opts.file} line ${ref.line}, column ${ref.column}`;
        const more = count > 1 ? ` (and ${count - 1} more use${count > 2 ? "s" : ""})` : "";
        const credential = credentialNameRule(ref.name);
        if (credential !== undefined) {
            refused.add(ref.name);
            c.add(
                at,
                `\${${seg(ref.name)}}`,
                `substitutes a credential-like variable${more}: ${credential}, and substitution copies the value into the Deployment's plain env (readable by anyone who can read Deployments)`,
                `use ${secretsKey}: list a secret under the function's secrets: and set its value with pulumi config set --secret --path '${secretsKey}.<secret>.<key>' <value> (the function reads it from /var/openfaas/secrets/<key>)`,
            );
        } else if (!isSubstitutionAllowed(ref.name, allow)) {
            refused.add(ref.name);
            c.add(
                at,
                `\${${seg(ref.name)}}`,
                `substitutes a variable that ${listKey} does not allow${more} (faas-cli substitutes the whole file, comments included)`,
                `add ${seg(ref.name)} to ${listKey} (an exact name, or a prefix ending in * such as FN_*), or pass the value as a function secret (${secretsKey})`,
            );
        }
    }
    let bytes: Buffer;
    try {
        bytes = executeEnvsubst(
            template,
            // A refused variable is never read: it substitutes as unset, so parsing goes on and reports the rest.
            (name) => (refused.has(name) ? "" : (Object.prototype.hasOwnProperty.call(opts.env, name) ? opts.env[name] : undefined) ?? ""),
            { maxBytes: ENVSUBST_DEFAULT_MAX_OUTPUT_BYTES },
        );
    } catch (err) {
        if (!(err instanceof EnvsubstError)) {
            throw err;
        }
        c.add(
            opts.file,
            "[substitution not shown]",
            err.kind === "crash" ? `makes faas-cli's envsubst crash: ${err.reason}` : `cannot be substituted: ${err.reason}`,
            "fix the ${...:offset:length} substitution (a length must not be negative)",
        );
        return undefined;
    }
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
        c.add(opts.file, "[substitution not shown]", "is not UTF-8 after substitution (a ${NAME:offset:length} cut a multi-byte character)", "use offsets that fall between characters");
        return undefined;
    }
}

/** Parses the stack file text. */
export function parseStackYml(text: string, opts: ParseStackOptions): StackYml {
    const c = new Collector();
    const done = (functions: FunctionSpec[] = []): StackYml => ({ functions, warnings: c.warnings, problems: c.problems, unknownKeys: c.unknownKeys });

    if (Buffer.byteLength(text, "utf8") > MAX_STACK_FILE_BYTES) {
        c.add(opts.file, `${Buffer.byteLength(text, "utf8")} bytes`, `is larger than ${MAX_STACK_FILE_BYTES} bytes (the stack file limit)`, "split the stack, or remove what is not deployed");
        return done();
    }
    const nul = text.indexOf("\0");
    if (nul !== -1) {
        const before = text.slice(0, nul);
        const line = before.split("\n").length;
        const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
        c.add(`${opts.file} line ${line}, column ${column}`, "NUL", "contains a NUL byte (faas-cli's envsubst stops reading the file there)", "remove it: a stack file is text");
        return done();
    }
    const substituted = substitute(text, opts, c);
    if (substituted === undefined) {
        return done();
    }
    const loaded = loadBounded(substituted, `${opts.file}${substituted === text ? "" : " (after substitution)"}`);
    if ("problem" in loaded) {
        c.problems.push(loaded.problem);
        return done();
    }
    const top = nodeOf(loaded.doc);
    if (top.kind !== "map") {
        c.add(opts.file, top.kind === "null" ? "(empty)" : HIDDEN, "must be a faas-cli stack file (a YAML map with version, provider and functions)", "see https://docs.openfaas.com/reference/yaml/");
        return done();
    }
    const doc = top.map;
    for (const k of Object.keys(doc)) {
        if (!(TOP_LEVEL_KEYS as readonly string[]).includes(k)) {
            c.unknownKey(`${opts.file}: ${seg(k)}`, k, TOP_LEVEL_KEYS);
        }
    }
    const ctx: Context = {
        opts,
        c,
        dir: path.posix.isAbsolute(opts.file.split(path.sep).join("/")) ? "." : path.posix.dirname(path.posix.normalize(opts.file.split(path.sep).join("/"))),
        envFiles: new Map(),
    };
    // yaml.v3 reads `version: 1.0` as the text "1.0"; go-sdk accepts only that, or no version.
    if (has(doc, "version")) {
        const version = stringField(ctx, `${opts.file}: version`, own(doc, "version"), { fix: "set version: 1.0" });
        if (version !== undefined && version !== "" && version !== "1.0") {
            c.add(`${opts.file}: version`, shown(version), 'must be "1.0" (or left out)', "set version: 1.0");
        }
    }
    const providerNode = nodeOf(own(doc, "provider"));
    let providerName: string | undefined = "";
    if (providerNode.kind === "map") {
        for (const k of Object.keys(providerNode.map)) {
            if (!(PROVIDER_KEYS as readonly string[]).includes(k)) {
                c.unknownKey(`${opts.file}: provider.${seg(k)}`, k, PROVIDER_KEYS);
            }
        }
        providerName = stringField(ctx, `${opts.file}: provider.name`, own(providerNode.map, "name"), { fix: "set provider.name: openfaas" });
        if (has(providerNode.map, "gateway")) {
            stringField(ctx, `${opts.file}: provider.gateway`, own(providerNode.map, "gateway"), { fix: "set provider.gateway: http://127.0.0.1:8080" });
        }
    } else if (providerNode.kind !== "null") {
        c.add(`${opts.file}: provider`, HIDDEN, "must be a map with name: openfaas", "write provider:, then name: openfaas under it");
        providerName = undefined;
    }
    if (providerName !== undefined && providerName !== "openfaas") {
        c.add(`${opts.file}: provider.name`, providerName === "" ? undefined : shown(providerName), "must be openfaas (this platform runs OpenFaaS, not another provider)", "set provider.name: openfaas");
    }
    const fnsNode = nodeOf(own(doc, "functions"));
    if (fnsNode.kind === "null") {
        // go-sdk: a file without functions is valid and deploys nothing.
        return done();
    }
    if (fnsNode.kind !== "map") {
        c.add(`${opts.file}: functions`, HIDDEN, "must be a map of function name to its settings", "add a functions: map");
        return done();
    }
    const names = Object.keys(fnsNode.map);
    if (names.length > MAX_FUNCTIONS) {
        c.add(
            `${opts.file}: functions`,
            `${names.length} functions`,
            `holds more than ${MAX_FUNCTIONS} functions, the most this platform supports (every function is a Deployment and a Service that the program holds in memory; npm run bench checks the plan's time and memory targets at ${MAX_FUNCTIONS})`,
            "split the functions over several stacks (projects), each with its own stack file",
        );
        return done();
    }
    const functions: FunctionSpec[] = [];
    for (const name of names) {
        const fn = parseFunction(ctx, name, fnsNode.map[name]);
        if (fn !== undefined) {
            functions.push(fn);
        }
    }
    return done(functions);
}
