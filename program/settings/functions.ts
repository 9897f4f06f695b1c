/**
 * `sovereign-faas:functions` (the stack.yml), `substituteEnv`, `functionSecrets`, `volumes` and
 * `sovereignRoots`. The only place that reads the stack file and its environment files: inside the
 * project directory only, regular files only, each size-capped before it is read.
 */
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import {
    credentialNameRule,
    DEFAULT_SOVEREIGN_ROOTS,
    FileRefusal,
    FunctionSpec,
    isDns1123Label,
    isRecord,
    MAX_ENVIRONMENT_FILE_BYTES,
    MAX_STACK_FILE_BYTES,
    parseStackYml,
    SovereignVolume,
    SUBSTITUTE_ENV_PATTERN,
    validateVolumes,
} from "../../components";
import { ConfigReader, fullKey, PLAN_SECRET_PLACEHOLDER } from "../config-reader";

/** The stack file read when `sovereign-faas:functions` is not set. */
export const DEFAULT_STACK_FILE = "stack.yml";
/** The variables stack.yml may substitute when `sovereign-faas:substituteEnv` is not set: none. */
export const DEFAULT_SUBSTITUTE_ENV: readonly string[] = [];

export interface FunctionsSettings {
    /** The stack file as configured (relative to the project). */
    readonly file: string;
    readonly functions: FunctionSpec[];
    /** Secret name -> key -> value (secret). */
    readonly functionSecrets: Readonly<Record<string, Readonly<Record<string, pulumi.Output<string>>>>>;
    readonly volumes: SovereignVolume[];
    readonly sovereignRoots: readonly string[];
    /** The variables stack.yml may substitute (valid entries of `substituteEnv`). */
    readonly substituteEnv: readonly string[];
    /** Unknown keys and conversions: printed, not fatal. */
    readonly warnings: string[];
    /** How many keys of the stack file faas-cli does not know (see StackYml.unknownKeys). */
    readonly unknownKeys: number;
}

export interface FunctionsConfigOptions {
    /** The project directory (where Pulumi.yaml is). */
    readonly rootDir: string;
    /** Environment for stack.yml substitution (only the variables substituteEnv allows are read). */
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly secret: (v: string) => pulumi.Output<string>;
}

/** What reading a project file gave. */
export type ProjectFileRead = { readonly kind: "text"; readonly text: string } | { readonly kind: "missing"; readonly path: string } | ({ readonly kind: "refused" } & FileRefusal);

const refuse = (refused: string, fix: string): ProjectFileRead => ({ kind: "refused", refused, fix });

function fileType(st: fs.Stats): string {
    if (st.isDirectory()) {
        return "a directory";
    }
    if (st.isFIFO()) {
        return "a FIFO (named pipe)";
    }
    if (st.isCharacterDevice()) {
        return "a character device";
    }
    if (st.isBlockDevice()) {
        return "a block device";
    }
    if (st.isSocket()) {
        return "a socket";
    }
    return "not a regular file";
}

function ioRefusal(err: unknown): ProjectFileRead {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    if (code === "EACCES" || code === "EPERM") {
        return refuse("cannot be read (permission denied)", "make it readable by the user that runs pulumi");
    }
    if (code === "ELOOP") {
        return refuse("is a loop of symbolic links", "point it at the file itself");
    }
    return refuse(`cannot be read (${code})`, "check the file");
}

/**
 * Reads a file of the project: `relPath` relative to `rootDir`, never an absolute path or one
 * that leaves the directory (by '..' or by a symbolic link whose target lies outside), a regular
 * file only (never a FIFO, device or directory: opened non-blocking, checked with fstat), at most
 * `maxBytes` (checked before reading, and no more than maxBytes + 1 bytes are ever read).
 */
export function readProjectFile(rootDir: string, relPath: string, maxBytes: number, limitName: string): ProjectFileRead {
    if (relPath === "" || relPath.includes("\0")) {
        return refuse("must be a file path", "name the file relative to the project directory");
    }
    if (path.posix.isAbsolute(relPath) || path.win32.isAbsolute(relPath) || relPath.startsWith("~")) {
        return refuse(
            "must be a path relative to the project directory (where Pulumi.yaml is): absolute paths (and ~) are refused so a stack cannot read files outside the project",
            "move the file into the project and name it relative to Pulumi.yaml",
        );
    }
    const normalized = path.posix.normalize(relPath.split("\\").join("/"));
    if (normalized === ".." || normalized.startsWith("../")) {
        return refuse("must stay inside the project directory ('..' leads out of it)", "move the file into the project");
    }
    const abs = path.resolve(rootDir, normalized);
    let realRoot: string;
    let real: string;
    try {
        fs.lstatSync(abs);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return code === "ENOENT" || code === "ENOTDIR" ? { kind: "missing", path: abs } : ioRefusal(err);
    }
    try {
        realRoot = fs.realpathSync(rootDir);
        real = fs.realpathSync(abs);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return code === "ENOENT" ? refuse("is a symbolic link to a file that does not exist", "point it at a file inside the project") : ioRefusal(err);
    }
    if (real !== realRoot && !real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep)) {
        return refuse("is (or lies under) a symbolic link that leads outside the project directory", "copy the file into the project instead of linking to it");
    }
    let st: fs.Stats;
    try {
        st = fs.statSync(real);
    } catch (err) {
        return ioRefusal(err);
    }
    if (!st.isFile()) {
        return refuse(`is ${fileType(st)}, not a regular file`, "point it at a regular file");
    }
    const tooBig = (size: number): ProjectFileRead =>
        refuse(`is ${size > maxBytes ? `${size} bytes` : "too large"}; at most ${maxBytes} bytes are read (${limitName})`, "keep the file below the limit");
    if (st.size > maxBytes) {
        return tooBig(st.size);
    }
    let fd: number;
    try {
        // O_NONBLOCK: should a FIFO replace the file after the check, opening it does not hang.
        fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | (fs.constants.O_NOCTTY ?? 0));
    } catch (err) {
        return ioRefusal(err);
    }
    try {
        const fst = fs.fstatSync(fd);
        if (!fst.isFile() || fst.dev !== st.dev || fst.ino !== st.ino) {
            return refuse("changed while it was being read", "run again once nothing else writes it");
        }
        if (fst.size > maxBytes) {
            return tooBig(fst.size);
        }
        const buf = Buffer.alloc(maxBytes + 1);
        let total = 0;
        for (;;) {
            const n = fs.readSync(fd, buf, total, buf.length - total, null);
            if (n === 0) {
                break;
            }
            total += n;
            if (total > maxBytes) {
                return tooBig(total);
            }
        }
        try {
            return { kind: "text", text: new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(0, total)) };
        } catch {
            return refuse("is not UTF-8 text", "save it as UTF-8");
        }
    } catch (err) {
        return ioRefusal(err);
    } finally {
        fs.closeSync(fd);
    }
}

/** `sovereign-faas:substituteEnv`: the valid entries; every invalid one is a problem. */
function parseSubstituteEnv(r: ConfigReader): string[] {
    const list = r.stringList("substituteEnv", r.structured("substituteEnv")) ?? [...DEFAULT_SUBSTITUTE_ENV];
    const out: string[] = [];
    list.forEach((entry, i) => {
        const key = fullKey(`substituteEnv[${i}]`);
        if (!SUBSTITUTE_ENV_PATTERN.test(entry)) {
            r.problems.add(
                key,
                entry,
                entry === "*" ? "would allow every variable of the environment" : "must be a variable name (letters, digits, '_', not starting with a digit), or a prefix of one ending in *",
                "list names such as LOG_LEVEL, or prefixes such as FN_*",
            );
            return;
        }
        const credential = credentialNameRule(entry.replace(/\*$/, ""));
        if (credential !== undefined) {
            r.problems.add(
                key,
                entry,
                `names credentials (${credential}): substitution would copy them into the Deployments' plain env`,
                `remove it and pass the values as function secrets (${fullKey("functionSecrets")})`,
            );
            return;
        }
        out.push(entry);
    });
    return out;
}

function secretsFor(r: ConfigReader, functions: readonly FunctionSpec[], opts: FunctionsConfigOptions): Map<string, Record<string, pulumi.Output<string>>> {
    const secrets = new Map<string, Record<string, pulumi.Output<string>>>();
    const rawSecrets = r.structured("functionSecrets");
    if (rawSecrets === PLAN_SECRET_PLACEHOLDER) {
        // The whole map is one secure value the plan cannot decrypt: give each referenced secret a placeholder.
        for (const s of new Set(functions.flatMap((f) => f.secrets))) {
            secrets.set(s, { value: opts.secret(PLAN_SECRET_PLACEHOLDER) });
        }
        return secrets;
    }
    if (rawSecrets === undefined) {
        return secrets;
    }
    if (!isRecord(rawSecrets)) {
        r.problems.add(fullKey("functionSecrets"), "[secret]", "must be a map of secret name to { key: value }", "pulumi config set --secret --path 'sovereign-faas:functionSecrets.<name>.<key>' <value>");
        return secrets;
    }
    for (const name of Object.keys(rawSecrets)) {
        const values = rawSecrets[name];
        if (!isDns1123Label(name)) {
            r.problems.add(fullKey(`functionSecrets.${JSON.stringify(name)}`), name, "must be a Kubernetes Secret name (a DNS-1123 label: lower-case letters, digits and '-', at most 63)", "rename it, and the function's secrets: entry with it");
            continue;
        }
        if (values === PLAN_SECRET_PLACEHOLDER) {
            secrets.set(name, { value: opts.secret(PLAN_SECRET_PLACEHOLDER) });
            continue;
        }
        if (!isRecord(values) || !Object.values(values).every((v) => typeof v === "string")) {
            r.problems.add(fullKey(`functionSecrets.${name}`), "[secret]", "must be a map of key to text", `set --path 'sovereign-faas:functionSecrets.${name}.<key>'`);
            continue;
        }
        const badKey = Object.keys(values).find((k) => !/^[-._a-zA-Z0-9]{1,253}$/.test(k) || k === "." || k === "..");
        if (badKey !== undefined) {
            r.problems.add(fullKey(`functionSecrets.${name}`), JSON.stringify(badKey), "must have keys of letters, digits, '-', '_' and '.' (each key is a file under /var/openfaas/secrets)", "rename the key, e.g. api-key");
            continue;
        }
        // Object.fromEntries defines properties: a key such as `constructor` stays an ordinary key.
        secrets.set(name, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, opts.secret(v as string)])));
    }
    return secrets;
}

/** Reads and validates the stack.yml, the function secrets and the volumes. */
export function parseFunctionsConfig(r: ConfigReader, opts: FunctionsConfigOptions): FunctionsSettings {
    const file = r.string("functions") ?? DEFAULT_STACK_FILE;
    const substituteEnv = parseSubstituteEnv(r);
    let functions: FunctionSpec[] = [];
    const warnings: string[] = [];
    let unknownKeys = 0;
    const read = readProjectFile(opts.rootDir, file, MAX_STACK_FILE_BYTES, "MAX_STACK_FILE_BYTES");
    if (read.kind === "missing") {
        r.problems.add(fullKey("functions"), file, `the stack file does not exist (looked for ${read.path})`, "point sovereign-faas:functions at your faas-cli stack.yml, relative to Pulumi.yaml");
    } else if (read.kind === "refused") {
        r.problems.add(fullKey("functions"), file, read.refused, read.fix);
    } else {
        const parsed = parseStackYml(read.text, {
            file,
            env: opts.env,
            substituteEnv,
            substituteEnvKey: fullKey("substituteEnv"),
            functionSecretsKey: fullKey("functionSecrets"),
            readFile: (p): string | undefined | FileRefusal => {
                const f = readProjectFile(opts.rootDir, p, MAX_ENVIRONMENT_FILE_BYTES, "MAX_ENVIRONMENT_FILE_BYTES");
                return f.kind === "text" ? f.text : f.kind === "missing" ? undefined : { refused: f.refused, fix: f.fix };
            },
        });
        r.problems.addAll(parsed.problems);
        warnings.push(...parsed.warnings);
        functions = parsed.functions;
        unknownKeys = parsed.unknownKeys;
    }

    const secrets = secretsFor(r, functions, opts);
    for (const fn of functions) {
        for (const s of fn.secrets) {
            if (!secrets.has(s)) {
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
    return { file, functions, functionSecrets: Object.fromEntries(secrets), volumes, sovereignRoots: roots, substituteEnv, warnings, unknownKeys };
}
