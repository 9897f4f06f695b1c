/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the CLI would hand them to a program:
 * every value as a string (maps and lists as JSON), `secure:` values replaced by a placeholder
 * and their keys marked secret, project defaults applied where the stack sets nothing.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

import { isRecord } from "../../components";
import { PLAN_SECRET_PLACEHOLDER } from "../config";

export interface StackFiles {
    readonly project: string;
    /** Full keys (`project:key`) to string values. */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
}

/** A problem with the stack files themselves (missing, unparsable). Exit code 2. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

function readYaml(file: string): unknown {
    if (!fs.existsSync(file)) {
        throw new StackFileError(`${file} not found`);
    }
    try {
        return yaml.load(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new StackFileError(`${file} is not valid YAML: ${(err as Error).message}`);
    }
}

/** Replaces `{ secure: ... }` leaves by the placeholder; reports whether any were found. */
function stripSecure(value: unknown): { value: unknown; secret: boolean } {
    if (isRecord(value)) {
        if (Object.keys(value).length === 1 && typeof value.secure === "string") {
            return { value: PLAN_SECRET_PLACEHOLDER, secret: true };
        }
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            const r = stripSecure(v);
            out[k] = r.value;
            secret = secret || r.secret;
        }
        return { value: out, secret };
    }
    if (Array.isArray(value)) {
        const items = value.map(stripSecure);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    return { value, secret: false };
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function qualify(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/** Loads the project and stack files from `dir`. */
export function loadStackFiles(dir: string, stack: string): StackFiles {
    const projectFile = readYaml(path.join(dir, "Pulumi.yaml"));
    if (!isRecord(projectFile) || typeof projectFile.name !== "string") {
        throw new StackFileError(`${path.join(dir, "Pulumi.yaml")} has no project name`);
    }
    const project = projectFile.name;
    const stackPath = path.join(dir, `Pulumi.${stack}.yaml`);
    const stackFile = readYaml(stackPath);
    const stackConfig = isRecord(stackFile) && isRecord(stackFile.config) ? stackFile.config : {};
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];

    const declared = isRecord(projectFile.config) ? projectFile.config : {};
    for (const [key, decl] of Object.entries(declared)) {
        if (isRecord(decl) && decl.default !== undefined) {
            config[qualify(project, key)] = asConfigString(decl.default);
        }
    }
    for (const [key, raw] of Object.entries(stackConfig)) {
        const { value, secret } = stripSecure(raw);
        const full = qualify(project, key);
        config[full] = asConfigString(value);
        if (secret) {
            secretKeys.push(full);
        }
    }
    return { project, config, secretKeys: secretKeys.sort() };
}
