/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands them to a program, and
 * refuses what the CLI refuses, with the CLI's reason. The rules, from pulumi/pulumi
 * (pkg/workspace/config.go mergeConfig and validateStackConfigValues, sdk/go/common/workspace/
 * project.go ValidateConfigValue; v3.259.0, unchanged on master):
 * - a key declared in Pulumi.yaml without `default:` (or `value:`) is required:
 *   "Stack '<s>' is missing configuration values 'a' and 'b'";
 * - a declared `type` is checked: "Stack '<s>' with configuration key '<k>' must be of type '<t>'",
 *   where scalars arrive as text (so `string` takes any scalar, `integer` a whole number,
 *   `boolean` true or false), `object` takes a map and `array` checks each item;
 * - a typed declaration with `secret: true` must be a `secure:` value;
 * - every `secure:` value is decrypted first, so a malformed ciphertext, a wrong passphrase or a
 *   stack without its `encryptionsalt` stops the CLI before the program runs.
 *
 * With the passphrase (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE) and the stack's
 * `encryptionsalt`, secure values are decrypted for real, as the CLI does; without it they become
 * a placeholder the program treats as a present secret. Every value reaches the program as a
 * string, maps and lists as JSON, and the keys of secure values are marked secret.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

import { isRecord, Problem, ValidationError } from "../../components";
import { PLAN_SECRET_PLACEHOLDER } from "../config-reader";
import { ciphertextProblem, Crypter, crypterFromSalt, PassphraseError } from "./passphrase";

/** The config types a declaration may name (sdk/go/common/workspace/project.json simpleConfigType). */
export const CONFIG_TYPES = ["string", "integer", "boolean", "array", "object"] as const;
export type ConfigType = (typeof CONFIG_TYPES)[number];

export interface ConfigItemsType {
    readonly type: ConfigType;
    readonly items?: ConfigItemsType;
}

export interface ConfigDeclaration {
    readonly type?: ConfigType;
    readonly items?: ConfigItemsType;
    readonly secret?: boolean;
    readonly default?: unknown;
    readonly value?: unknown;
    readonly description?: string;
}

export interface StackFiles {
    readonly project: string;
    /** Full keys (`project:key`) to string values. */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
    /** The plain text of every secure value, with its config path: what must never reach a plain input. */
    readonly secretValues: ReadonlyArray<{ readonly path: string; readonly value: string }>;
    /** Things the CLI may refuse that the plan cannot decide offline. */
    readonly warnings: string[];
}

/** A problem with the stack files themselves (missing, unparsable, refused by the CLI's rules). Exit code 2. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

export interface LoadOptions {
    /** Where the passphrase comes from. @default process.env */
    readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Larger stack files are refused: a stack file is config, not data. */
export const MAX_STACK_FILE_BYTES = 4 * 1024 * 1024;

function readYaml(file: string): unknown {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch {
        throw new StackFileError(`${file} not found`);
    }
    if (!stat.isFile() || stat.size > MAX_STACK_FILE_BYTES) {
        throw new StackFileError(`${file} must be a regular file of at most ${MAX_STACK_FILE_BYTES} bytes`);
    }
    let doc: unknown;
    try {
        // json: true lets a later duplicate key win, as the CLI's YAML decoder does not fail on them either.
        doc = yaml.load(fs.readFileSync(file, "utf8"), { json: true });
    } catch (err) {
        const e = err as yaml.YAMLException;
        // The reason and the position only: the snippet of nearby lines could show a secret.
        const at = e.mark ? ` (line ${e.mark.line + 1}, column ${e.mark.column + 1})` : "";
        throw new StackFileError(`${file} is not valid YAML: ${e.reason ?? "parse error"}${at}`);
    }
    // Aliases share one object in js-yaml; walked (or stringified) they multiply. A few aliases
    // can stand for billions of nodes, so count them as expanded and stop early.
    if (expandedNodes(doc, MAX_YAML_NODES) > MAX_YAML_NODES) {
        throw new StackFileError(`${file} expands to more than ${MAX_YAML_NODES} YAML nodes (aliases counted each time they are used): a stack file is a few hundred. Fix: write the values out, without nested aliases`);
    }
    return doc;
}

/** The most YAML nodes a project or stack file may expand to. */
export const MAX_YAML_NODES = 100_000;

/** Nodes of a parsed document with every alias expanded, counted up to `limit` + 1. */
export function expandedNodes(doc: unknown, limit: number): number {
    let n = 0;
    const stack: unknown[] = [doc];
    while (stack.length > 0 && n <= limit) {
        const v = stack.pop();
        n++;
        if (typeof v === "object" && v !== null) {
            for (const child of Array.isArray(v) ? v : Object.values(v)) {
                stack.push(child);
                if (stack.length > limit) {
                    return limit + 1;
                }
            }
        }
    }
    return n;
}

function qualify(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/** A value as the CLI holds it: text, or a structure (objects and lists), and whether it is or holds a secure value. */
interface StackValue {
    readonly content: unknown;
    readonly object: boolean;
    readonly secure: boolean;
}

/** Scalars become the text the CLI would store (object.MarshalString: bool and numbers as JSON text). */
function scalarText(v: unknown): string {
    return typeof v === "string" ? v : v === null ? "" : JSON.stringify(v);
}

/** A `{ secure: "..." }` leaf. */
function isSecureLeaf(v: unknown): v is { secure: string } {
    return isRecord(v) && Object.keys(v).length === 1 && typeof v.secure === "string";
}

/**
 * Walks a stack value: decrypts (or replaces) secure leaves, records malformed ciphertexts.
 * Structured values keep their leaves' native types, as the CLI's JSON does.
 */
function resolveValue(raw: unknown, at: string, decrypt: (ciphertext: string, at: string) => string): StackValue {
    if (isSecureLeaf(raw)) {
        return { content: decrypt(raw.secure, at), object: false, secure: true };
    }
    let secure = false;
    const walk = (v: unknown, p: string): unknown => {
        if (isSecureLeaf(v)) {
            secure = true;
            return decrypt(v.secure, p);
        }
        if (Array.isArray(v)) {
            return v.map((x, i) => walk(x, `${p}[${i}]`));
        }
        if (isRecord(v)) {
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, `${p}.${k}`)]));
        }
        return v;
    };
    if (Array.isArray(raw) || isRecord(raw)) {
        return { content: walk(raw, at), object: true, secure };
    }
    return { content: scalarText(raw), object: false, secure: false };
}

function typeName(type: ConfigType, items?: ConfigItemsType): string {
    return items !== undefined ? `array<${typeName(items.type, items.items)}>` : type;
}

/** ValidateConfigValue of sdk/go/common/workspace/project.go. */
export function matchesType(type: ConfigType, items: ConfigItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value) && Number.isSafeInteger(Number(value)));
        case "boolean":
            return value === true || value === false || value === "true" || value === "false";
        case "object":
            return isRecord(value);
        case "array":
            return Array.isArray(value) && items !== undefined && value.every((v) => matchesType(items.type, items.items, v));
    }
}

function declarationsOf(projectFile: Record<string, unknown>, file: string): Record<string, ConfigDeclaration> {
    const raw = isRecord(projectFile.config) ? projectFile.config : {};
    const out: Record<string, ConfigDeclaration> = {};
    const problems: string[] = [];
    for (const [key, decl] of Object.entries(raw)) {
        // Shorthand `key: value` means a default (RewriteShorthandConfigValues).
        const d: ConfigDeclaration = isRecord(decl) ? (decl as ConfigDeclaration) : { default: decl };
        if (d.type !== undefined && !(CONFIG_TYPES as readonly string[]).includes(d.type)) {
            problems.push(`config.${key}.type: ${JSON.stringify(d.type)} is not one of ${CONFIG_TYPES.join(", ")}`);
        } else if (d.type === "array" && d.items === undefined) {
            problems.push(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
        } else if (d.type !== undefined && d.default !== undefined && !matchesType(d.type, d.items, typeof d.default === "object" && d.default !== null ? d.default : scalarText(d.default))) {
            problems.push(`The default value specified for configuration key '${key}' is not of the expected type '${typeName(d.type, d.items)}'`);
        }
        out[key] = d;
    }
    if (problems.length > 0) {
        throw new StackFileError(`${file} is refused by the Pulumi CLI:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    return out;
}

/** The passphrase the CLI would use, from the same variables. */
function passphraseOf(env: Readonly<Record<string, string | undefined>>): string | undefined {
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
        return env.PULUMI_CONFIG_PASSPHRASE;
    }
    const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (file !== undefined && file !== "") {
        try {
            return fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
        } catch {
            throw new StackFileError(`PULUMI_CONFIG_PASSPHRASE_FILE ${file} cannot be read`);
        }
    }
    return undefined;
}

/** Whether secrets of this project live in a DIY backend (file, s3, gs, azblob), where the passphrase provider is the default. */
function diyBackend(projectFile: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): boolean {
    const url = env.PULUMI_BACKEND_URL ?? (isRecord(projectFile.backend) && typeof projectFile.backend.url === "string" ? projectFile.backend.url : undefined);
    return url !== undefined && /^(file|s3|gs|azblob):\/\//.test(url);
}

/** Loads the project and stack files from `dir`, with the CLI's checks. */
export function loadStackFiles(dir: string, stack: string, options: LoadOptions = {}): StackFiles {
    const env = options.env ?? process.env;
    const projectPath = path.join(dir, "Pulumi.yaml");
    const projectFile = readYaml(projectPath);
    if (!isRecord(projectFile) || typeof projectFile.name !== "string") {
        throw new StackFileError(`${projectPath} has no project name`);
    }
    const project = projectFile.name;
    const declarations = declarationsOf(projectFile, projectPath);
    const stackPath = path.join(dir, `Pulumi.${stack}.yaml`);
    const stackFile = readYaml(stackPath);
    if (stackFile !== null && stackFile !== undefined && !isRecord(stackFile)) {
        throw new StackFileError(`${stackPath} must be a YAML map with a config: section`);
    }
    const stackDoc = isRecord(stackFile) ? stackFile : {};
    const stackConfig = isRecord(stackDoc.config) ? stackDoc.config : {};
    const salt = typeof stackDoc.encryptionsalt === "string" ? stackDoc.encryptionsalt : undefined;
    const provider = typeof stackDoc.secretsprovider === "string" ? stackDoc.secretsprovider : undefined;
    const warnings: string[] = [];
    const problems: Problem[] = [];
    const refuse = (key: string, value: unknown, rule: string, fix: string): void => {
        problems.push({ key, value, rule, fix });
    };

    // --- secure values: decrypt, or check their shape and use the placeholder --------------------
    const passphrase = passphraseOf(env);
    let crypter: Crypter | undefined;
    const hasSecure = JSON.stringify(stackConfig).includes('"secure":');
    if (hasSecure && salt !== undefined && passphrase !== undefined && (provider === undefined || provider === "passphrase")) {
        try {
            crypter = crypterFromSalt(passphrase, salt);
        } catch (err) {
            throw new StackFileError(`${stackPath}: the Pulumi CLI would stop here: ${(err as PassphraseError).message} (encryptionsalt with PULUMI_CONFIG_PASSPHRASE). Fix: use the passphrase this stack was created with`);
        }
    }
    if (hasSecure && salt === undefined && provider === undefined) {
        const why = "holds secure: values but no encryptionsalt (passphrase provider) and no secretsprovider";
        if (diyBackend(projectFile, env)) {
            refuse(`${stackPath}: encryptionsalt`, undefined, `${why}; with a DIY backend the CLI would make a new salt and then fail to decrypt them`, "create the stack with `pulumi stack init` and set each secret with `pulumi config set --secret`");
        } else {
            warnings.push(`${stackPath} ${why}: only a Pulumi Cloud stack can decrypt them, and the plan cannot check that they are genuine`);
        }
    }
    const secretValues: Array<{ path: string; value: string }> = [];
    const decrypt = (ciphertext: string, at: string): string => {
        const plain = decryptOne(ciphertext, at);
        secretValues.push({ path: at, value: plain });
        return plain;
    };
    const decryptOne = (ciphertext: string, at: string): string => {
        if (salt !== undefined && (provider === undefined || provider === "passphrase")) {
            const shape = ciphertextProblem(ciphertext);
            if (shape !== undefined) {
                refuse(at, "[secret]", `is not a ciphertext of this stack's passphrase provider: the CLI stops with "${shape}"`, `set it again with pulumi config set --secret --path '${at}'`);
                return PLAN_SECRET_PLACEHOLDER;
            }
        }
        if (crypter === undefined) {
            return PLAN_SECRET_PLACEHOLDER;
        }
        try {
            return crypter.decrypt(ciphertext);
        } catch (err) {
            refuse(at, "[secret]", `cannot be decrypted with this stack's passphrase: the CLI stops with "${(err as Error).message}"`, `set it again with pulumi config set --secret --path '${at}'`);
            return PLAN_SECRET_PLACEHOLDER;
        }
    };

    const values = new Map<string, StackValue>();
    for (const [key, raw] of Object.entries(stackConfig)) {
        values.set(qualify(project, key), resolveValue(raw, qualify(project, key), decrypt));
    }

    // --- the project's declarations: required keys, defaults, types, secrets ----------------------
    const missing: string[] = [];
    for (const key of Object.keys(declarations).sort()) {
        const decl = declarations[key];
        const full = qualify(project, key);
        const inProject = full.startsWith(`${project}:`);
        let value = values.get(full);
        if (value === undefined) {
            const fallback = decl.value ?? decl.default;
            if (fallback === undefined) {
                if (inProject) {
                    missing.push(key);
                }
                continue;
            }
            value = resolveValue(fallback, full, decrypt);
            values.set(full, value);
        }
        if (decl.type === undefined) {
            continue;
        }
        if (decl.secret === true && !value.secure) {
            refuse(full, "(plain text)", `is declared secret in Pulumi.yaml, and the CLI refuses it: "Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret"`, `pulumi config set --secret ${full} <value>`);
        } else if (!matchesType(decl.type, decl.items, value.content)) {
            refuse(full, value.secure ? "[secret]" : value.content, `is declared in Pulumi.yaml as ${typeName(decl.type, decl.items)}, and the CLI refuses it: "Stack '${stack}' with configuration key '${key}' must be of type '${typeName(decl.type, decl.items)}'"`, `write it as ${typeName(decl.type, decl.items) === "object" ? "a YAML map" : `a value of type ${typeName(decl.type, decl.items)}`}`);
        }
    }
    if (missing.length > 0) {
        const list = missing.length === 1 ? `'${missing[0]}'` : `${missing.slice(0, -1).map((k) => `'${k}'`).join(", ")} and '${missing[missing.length - 1]}'`;
        problems.unshift({
            key: missing.map((k) => qualify(project, k)).join(", "),
            value: undefined,
            rule: `Pulumi.yaml declares ${missing.length === 1 ? "it" : "them"} without a default, so the CLI refuses the stack: "Stack '${stack}' is missing configuration ${missing.length === 1 ? "value" : "values"} ${list}"`,
            fix: `set ${missing.length === 1 ? "it" : "each"} with pulumi config set (see the README's stack config table)`,
        });
    }
    if (problems.length > 0) {
        throw new ValidationError(problems, `Pulumi.${stack}.yaml is refused by the Pulumi CLI's config rules`);
    }

    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [full, v] of values) {
        config[full] = v.object ? JSON.stringify(v.content) : (v.content as string);
        if (v.secure) {
            secretKeys.push(full);
        }
    }
    return { project, config, secretKeys: secretKeys.sort(), secretValues, warnings };
}
