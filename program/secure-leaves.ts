/**
 * Where a stack's `secure:` values are. The runtime says only which top-level keys hold one
 * (PULUMI_CONFIG_SECRET_KEYS: a key with one secure leaf is secret as a whole), so the leaves
 * themselves are read from the stack file, as `k3s.extraArgs.token`-style paths. A secure leaf
 * must stay secret to the end: only the paths in SECRET_CAPABLE_PATHS are rendered as secrets
 * (Kubernetes Secrets, standard input); a secure value anywhere else would land in a script or
 * in Helm values in plain text, so it is refused (issue "Hostile or careless input", item 7).
 */
import * as fs from "fs";
import * as path from "path";

import * as yaml from "js-yaml";

import { PROJECT } from "./config-reader";

/** The largest stack file read for its secure leaves (a stack file is a few kilobytes). */
export const MAX_SECURE_SCAN_BYTES = 4 * 1024 * 1024;
/** The most nodes walked, aliases expanded (a YAML alias bomb stops here). */
export const MAX_SECURE_SCAN_NODES = 200_000;

/**
 * The config paths that may hold secrets, each a pattern of path segments (`*` one segment,
 * `**` any rest), with where the secret goes. Everything else is rendered in plain text.
 */
export const SECRET_CAPABLE_PATHS: ReadonlyArray<{ readonly pattern: string; readonly goesTo: string }> = [
    { pattern: "sshPrivateKey", goesTo: "the SSH connection (never a command line)" },
    { pattern: "functionSecrets", goesTo: "Kubernetes Secrets in openfaas-fn" },
    { pattern: "functionSecrets.**", goesTo: "Kubernetes Secrets in openfaas-fn" },
    { pattern: "openfaas.licenseSecret", goesTo: "the OpenFaaS Pro licence Secret" },
    { pattern: "tls.key", goesTo: "the gateway's TLS Secret" },
    { pattern: "tls.certificate", goesTo: "the gateway's TLS Secret" },
    { pattern: "k3s.extraArgs.*", goesTo: "a 0600 K3s config drop-in, written from standard input" },
    { pattern: "backups.password", goesTo: "a 0600 file on the host, from standard input (a systemd credential of the backup unit)" },
    { pattern: "backups.target.privateKey", goesTo: "a 0600 file on the host, from standard input (a systemd credential of the backup unit)" },
    { pattern: "backups.target.accessKeyId", goesTo: "a 0600 file on the host, from standard input (a systemd credential of the backup unit)" },
    { pattern: "backups.target.secretAccessKey", goesTo: "a 0600 file on the host, from standard input (a systemd credential of the backup unit)" },
    { pattern: "k3s.extraArgs.*.**", goesTo: "a 0600 K3s config drop-in, written from standard input" },
];

/** Splits `a.b[0]["c.d"]` into segments. */
export function pathSegments(p: string): string[] {
    const out: string[] = [];
    for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)) {
        out.push(m[1] ?? m[2] ?? JSON.parse(`"${m[3]}"`));
    }
    return out;
}

/** Joins segments back into a path a user can pass to `pulumi config set --path`: `a.b[0]["c.d"]`. */
export function joinPath(segments: readonly string[]): string {
    return segments
        .map((s, i) => {
            if (i > 0 && /^\d+$/.test(s)) {
                return `[${s}]`;
            }
            if (/^[A-Za-z0-9_-]+$/.test(s)) {
                return i === 0 ? s : `.${s}`;
            }
            return `[${JSON.stringify(s)}]`;
        })
        .join("");
}

/** Whether a path matches a pattern of SECRET_CAPABLE_PATHS. */
export function pathMatchesPattern(p: string, pattern: string): boolean {
    const segs = pathSegments(p);
    const pat = pattern.split(".");
    for (let i = 0; i < pat.length; i++) {
        if (pat[i] === "**") {
            return segs.length > i;
        }
        if (i >= segs.length || (pat[i] !== "*" && pat[i] !== segs[i])) {
            return false;
        }
    }
    return segs.length === pat.length;
}

/** Where a secure value at `p` goes, or undefined when it would be rendered in plain text. */
export function secretDestination(p: string): string | undefined {
    return SECRET_CAPABLE_PATHS.find((c) => pathMatchesPattern(p, c.pattern))?.goesTo;
}

const isSecureLeaf = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";

/** The paths (short keys, without `sovereign-faas:`) of every secure leaf of this project's keys in a stack file's `config:` map. */
export function secureLeafPaths(config: unknown): string[] {
    const out: string[] = [];
    if (typeof config !== "object" || config === null) {
        return out;
    }
    const prefix = `${PROJECT}:`;
    let budget = MAX_SECURE_SCAN_NODES;
    const walk = (v: unknown, segs: string[], depth: number): void => {
        if (depth > 64 || --budget < 0) {
            return;
        }
        if (isSecureLeaf(v)) {
            out.push(joinPath(segs));
            return;
        }
        if (Array.isArray(v)) {
            v.forEach((x, i) => walk(x, [...segs, String(i)], depth + 1));
        } else if (typeof v === "object" && v !== null) {
            for (const [k, x] of Object.entries(v)) {
                walk(x, [...segs, k], depth + 1);
            }
        }
    };
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(prefix)) {
            walk(value, [key.slice(prefix.length)], 0);
        }
    }
    return out.sort();
}

/**
 * The secure leaves of a stack, read from `<dir>/Pulumi.<stack>.yaml` (or `.yml`, in the
 * project's `stackConfigDir`), or undefined when there is no such file (config from elsewhere).
 * The file is read with bounds; a file that cannot be parsed gives undefined too (the CLI
 * refuses it before the program runs).
 */
export function readSecureLeafPaths(dir: string, stack: string): string[] | undefined {
    const name = stack.split("/").pop() ?? stack;
    let configDir = dir;
    for (const project of ["Pulumi.yaml", "Pulumi.yml"]) {
        try {
            const doc = yaml.load(fs.readFileSync(path.join(dir, project), "utf8")) as { stackConfigDir?: unknown } | undefined;
            if (typeof doc?.stackConfigDir === "string") {
                configDir = path.resolve(dir, doc.stackConfigDir);
            }
            break;
        } catch {
            // try the next name
        }
    }
    for (const file of [`Pulumi.${name}.yaml`, `Pulumi.${name}.yml`]) {
        const p = path.join(configDir, file);
        try {
            const st = fs.statSync(p);
            if (!st.isFile() || st.size > MAX_SECURE_SCAN_BYTES) {
                return undefined;
            }
            const doc = yaml.load(fs.readFileSync(p, "utf8"), { json: true }) as { config?: unknown } | undefined;
            return secureLeafPaths(doc?.config);
        } catch {
            continue;
        }
    }
    return undefined;
}
