/**
 * The typed reader over the raw stack config that every settings parser shares. Its own module,
 * so the parsers and the top-level config module depend on it, and not on each other.
 */
import { isRecord, Problems } from "../components";

/** The Pulumi project name, and so the config namespace. */
export const PROJECT = "sovereign-faas";
/**
 * What the offline plan substitutes for `secure:` values it cannot decrypt. Secret values are
 * checked for shape only when they are real; the placeholder passes as "present".
 */
export const PLAN_SECRET_PLACEHOLDER = "[secret placeholder: the plan runs without the stack's passphrase]";

/** Raw config: short key (without `sovereign-faas:`) to the string Pulumi stores. */
export type RawConfig = Readonly<Record<string, string | undefined>>;

/** The full key as users type it. */
export function fullKey(path: string): string {
    return `${PROJECT}:${path}`;
}

/** A typed view of a raw config map that records problems as it reads. */
export class ConfigReader {
    readonly problems = new Problems();

    constructor(private readonly raw: RawConfig) {}

    has(key: string): boolean {
        return this.raw[key] !== undefined;
    }

    string(key: string): string | undefined {
        return this.raw[key];
    }

    /** Parses a structured (YAML map or list) value; Pulumi stores those as JSON. */
    structured(key: string): unknown {
        const text = this.raw[key];
        if (text === undefined) {
            return undefined;
        }
        try {
            return JSON.parse(text);
        } catch {
            // A plain string where a map was expected: report it as the value the user typed.
            return text;
        }
    }

    object(key: string, shape: string): Record<string, unknown> | undefined {
        const value = this.structured(key);
        if (value === undefined) {
            return undefined;
        }
        if (!isRecord(value)) {
            this.problems.add(fullKey(key), value, `must be a map (${shape})`, `write it as a YAML map under ${fullKey(key)}`);
            return undefined;
        }
        return value;
    }

    /** An integer in [min, max]; strings of digits are accepted (Pulumi stores numbers as text). */
    integer(key: string, value: unknown, min: number, max: number): number | undefined {
        const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
        if (!Number.isInteger(n) || n < min || n > max) {
            this.problems.add(fullKey(key), value, `must be a whole number from ${min} to ${max}`, `set a number such as ${min === 1 && max === 65535 ? 22 : min}`);
            return undefined;
        }
        return n;
    }

    stringList(key: string, value: unknown): string[] | undefined {
        if (value === undefined) {
            return undefined;
        }
        if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
            this.problems.add(fullKey(key), value, "must be a list of strings", `write it as a YAML list, e.g. ${fullKey(key)}: ["203.0.113.0/24"]`);
            return undefined;
        }
        return value as string[];
    }

    /** Reports keys of a map that the schema does not know (likely typos). */
    unknownKeys(key: string, value: Record<string, unknown>, known: readonly string[]): void {
        for (const k of Object.keys(value)) {
            if (!known.includes(k)) {
                this.problems.add(fullKey(`${key}.${k}`), value[k], `is not a known setting (known: ${known.join(", ")})`, "remove it or fix its spelling");
            }
        }
    }
}
