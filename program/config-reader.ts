/**
 * The typed reader over the raw stack config that every settings parser shares. Its own module,
 * so the parsers and the top-level config module depend on it, and not on each other.
 */
import { isRecord, Problem, Problems } from "../components";

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

/** Keys no structured config value may have: the names of Object.prototype's properties (`__proto__`, `constructor`, `toString`, ...). */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), "prototype"]);

/** What a problem shows instead of a value that must not be echoed. */
export const NOT_SHOWN = "[not shown]";

/**
 * Problems whose values are never a secret: a problem about a key under a secure config value
 * shows "[secret]", whatever the parser passed.
 */
class RedactingProblems extends Problems {
    constructor(private readonly secretPaths: readonly string[]) {
        super();
    }

    private redact(p: Problem): Problem {
        const key = p.key.startsWith(`${PROJECT}:`) ? p.key.slice(PROJECT.length + 1) : p.key;
        const secret = this.secretPaths.some((s) => key === s || key.startsWith(`${s}.`) || key.startsWith(`${s}[`) || s.startsWith(`${key}.`) || s.startsWith(`${key}[`));
        return secret && p.value !== undefined ? { ...p, value: "[secret]" } : p;
    }

    override add(key: string, value: unknown, rule: string, fix: string): void {
        super.addAll([this.redact({ key, value, rule, fix })]);
    }

    override addAll(problems: readonly Problem[]): void {
        super.addAll(problems.map((p) => this.redact(p)));
    }
}

/** A typed view of a raw config map that records problems as it reads. */
export class ConfigReader {
    readonly problems: Problems;
    private readonly nullsReported = new Set<string>();

    /**
     * @param secretPaths where the stack's secure values are (`k3s.extraArgs.token`, or a whole
     *   key): problems about them never show their values.
     */
    constructor(
        private readonly raw: RawConfig,
        readonly secretPaths: readonly string[] = [],
    ) {
        this.problems = new RedactingProblems(secretPaths);
    }

    /** Whether the value at a config path (or a part of it) is a secure value. */
    isSecret(path: string): boolean {
        return this.secretPaths.some((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
    }

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
        let value: unknown;
        try {
            value = JSON.parse(text);
        } catch {
            // A plain string where a map was expected: report it as the value the user typed.
            return text;
        }
        if (nestingDepth(value) > MAX_CONFIG_DEPTH) {
            // Every walk below recurses; a value nested thousands deep would end in a stack overflow.
            this.problems.add(fullKey(key), NOT_SHOWN, `is nested more than ${MAX_CONFIG_DEPTH} levels deep`, "flatten the value; no key of this stack nests that deep");
            return undefined;
        }
        this.reportNulls(key, value);
        return withoutReservedKeys(value);
    }

    /**
     * A `null` inside a structured value is refused where it is: read as "not set", it would
     * silently become the default the user tried to change. So is a key named like a property
     * of Object.prototype (RESERVED_KEYS), and its subtree is left unread.
     */
    private reportNulls(key: string, value: unknown): void {
        if (this.nullsReported.has(key)) {
            return;
        }
        this.nullsReported.add(key);
        let budget = 10_000;
        const walk = (v: unknown, at: string): void => {
            if (--budget < 0) {
                return;
            }
            if (v === null) {
                this.problems.add(fullKey(at), null, "is null; a null is not a value and would silently become the default", "remove the key to use the default, or give it a value");
            } else if (Array.isArray(v)) {
                v.forEach((x, i) => walk(x, `${at}[${i}]`));
            } else if (isRecord(v)) {
                for (const [k, x] of Object.entries(v)) {
                    if (RESERVED_KEYS.has(k)) {
                        this.problems.add(fullKey(`${at}.${k}`), NOT_SHOWN, "is a reserved name: it collides with JavaScript's Object.prototype, so the program could not hold it as data", "rename the key");
                        continue;
                    }
                    walk(x, `${at}.${k}`);
                }
            }
        };
        walk(value, key);
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

    /**
     * Reports keys of a map that the schema does not know (likely typos). Their values are never
     * shown: a misspelt secret key holds a secret.
     */
    unknownKeys(key: string, value: Record<string, unknown>, known: readonly string[]): void {
        for (const k of Object.keys(value)) {
            if (!known.includes(k)) {
                const hint = closestKey(k, known);
                this.problems.add(fullKey(`${key}.${k}`), NOT_SHOWN, `is not a known setting${hint !== undefined ? `; did you mean ${hint}?` : ""} (known: ${known.join(", ")})`, "remove it or fix its spelling");
            }
        }
    }
}

/** The known key a misspelt one most likely meant (case, `-`/`_` and up to two edits), or undefined. */
export function closestKey(name: string, known: readonly string[]): string | undefined {
    const norm = (x: string): string => x.toLowerCase().replace(/[-_]/g, "");
    const distance = (a: string, b: string): number => {
        const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
        for (let j = 1; j <= b.length; j++) {
            d[0][j] = j;
        }
        for (let i = 1; i <= a.length; i++) {
            for (let j = 1; j <= b.length; j++) {
                d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length][b.length];
    };
    let best: { k: string; d: number } | undefined;
    for (const k of known) {
        const d = norm(k) === norm(name) ? 0 : distance(name.toLowerCase(), k.toLowerCase());
        if (best === undefined || d < best.d) {
            best = { k, d };
        }
    }
    return best !== undefined && best.d <= 2 ? best.k : undefined;
}

/** A copy of a parsed JSON value without RESERVED_KEYS (reported by the reader), so no later merge or lookup meets them. */
/** How deep a structured config value may nest (Helm values of real charts stay under 15). */
export const MAX_CONFIG_DEPTH = 32;

/** The nesting depth of a JSON value, computed without recursion. */
export function nestingDepth(value: unknown): number {
    let max = 0;
    const stack: Array<[unknown, number]> = [[value, 0]];
    while (stack.length > 0) {
        const [v, d] = stack.pop()!;
        max = Math.max(max, d);
        if (max > MAX_CONFIG_DEPTH) {
            return max;
        }
        if (v !== null && typeof v === "object") {
            for (const child of Object.values(v as Record<string, unknown>)) {
                stack.push([child, d + 1]);
            }
        }
    }
    return max;
}

function withoutReservedKeys(v: unknown): unknown {
    if (Array.isArray(v)) {
        return v.map(withoutReservedKeys);
    }
    if (isRecord(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
            if (!RESERVED_KEYS.has(k)) {
                out[k] = withoutReservedKeys(x);
            }
        }
        return out;
    }
    return v;
}
