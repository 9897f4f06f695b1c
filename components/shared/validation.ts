/**
 * Validation primitives shared by every component and by the program's config parser.
 *
 * A problem names the key as the user typed it, the value, the rule and the fix. Problems are
 * collected, never thrown one at a time, so a user sees every mistake of one config at once.
 */
import * as pulumi from "@pulumi/pulumi";

/** One thing wrong with the input. */
export interface Problem {
    /** The key as the user typed it, e.g. `sovereign-faas:location.country`. */
    readonly key: string;
    /** The offending value, rendered for humans (already redacted where secret). */
    readonly value: unknown;
    /** The rule the value breaks. */
    readonly rule: string;
    /** What to do about it. */
    readonly fix: string;
}

/**
 * Thrown when input is invalid. Carries every problem found, not just the first. A
 * `pulumi.RunError`, so the Pulumi CLI prints the message alone, without a stack trace
 * (@pulumi/pulumi cmd/run/run.js: "Always hide the stack for RunErrors").
 */
export class ValidationError extends pulumi.RunError {
    readonly problems: readonly Problem[];

    constructor(problems: readonly Problem[], heading = "Invalid configuration") {
        super(formatProblems(problems, heading));
        this.name = "ValidationError";
        this.problems = problems;
    }
}

/** Renders a value the way a user would have typed it in YAML. */
export function showValue(value: unknown): string {
    if (value === undefined) {
        return "(not set)";
    }
    if (typeof value === "string") {
        return JSON.stringify(value);
    }
    try {
        return JSON.stringify(value);
    } catch {
        return String(value);
    }
}

export function formatProblems(problems: readonly Problem[], heading = "Invalid configuration"): string {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const lines = problems.map(
        (p) => `  - ${p.key}: ${showValue(p.value)} is invalid: ${p.rule}. Fix: ${p.fix}`,
    );
    return [`${heading} (${count}):`, ...lines].join("\n");
}

/** Collects problems; `throwIfAny` raises them together. */
export class Problems {
    private readonly list: Problem[] = [];

    add(key: string, value: unknown, rule: string, fix: string): void {
        this.list.push({ key, value, rule, fix });
    }

    addAll(problems: readonly Problem[]): void {
        this.list.push(...problems);
    }

    get items(): readonly Problem[] {
        return this.list;
    }

    get empty(): boolean {
        return this.list.length === 0;
    }

    throwIfAny(heading?: string): void {
        if (this.list.length > 0) {
            throw new ValidationError(this.list, heading);
        }
    }
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes DNS-1123 label: lower case alphanumerics and '-', at most 63 characters. */
export function isDns1123Label(value: string): boolean {
    return value.length <= 63 && DNS_1123_LABEL.test(value);
}

/** A DNS host name (RFC 1123): labels of letters, digits and '-', at most 253 characters. */
export function isDnsName(value: string): boolean {
    if (value.length === 0 || value.length > 253) {
        return false;
    }
    const labels = value.replace(/\.$/, "").split(".");
    return labels.every((l) => /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/.test(l)) && !/^[0-9.]+$/.test(value);
}

export function isIPv4(value: string): boolean {
    const parts = value.split(".");
    return (
        parts.length === 4 &&
        parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)
    );
}

export function isIPv6(value: string): boolean {
    if (!/^[0-9A-Fa-f:.]+$/.test(value) || !value.includes(":")) {
        return false;
    }
    const doubleColons = value.split("::").length - 1;
    if (doubleColons > 1) {
        return false;
    }
    let groups = value.split(":");
    const last = groups[groups.length - 1];
    let extra = 0;
    if (last.includes(".")) {
        if (!isIPv4(last)) {
            return false;
        }
        groups = groups.slice(0, -1);
        extra = 2;
    }
    const nonEmpty = groups.filter((g) => g !== "");
    if (!nonEmpty.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) {
        return false;
    }
    const total = nonEmpty.length + extra;
    return doubleColons === 1 ? total < 8 : total === 8 && groups.every((g) => g !== "");
}

/** An IPv4 or IPv6 CIDR block such as `203.0.113.0/24` or `2001:db8::/32`. A bare address counts as /32 or /128. */
export function isCidr(value: string): boolean {
    const [addr, prefix, ...rest] = value.split("/");
    if (rest.length > 0) {
        return false;
    }
    const v4 = isIPv4(addr);
    const v6 = !v4 && isIPv6(addr);
    if (!v4 && !v6) {
        return false;
    }
    if (prefix === undefined) {
        return true;
    }
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix)) {
        return false;
    }
    return Number(prefix) <= (v4 ? 32 : 128);
}

/** Strict semantic version `MAJOR.MINOR.PATCH` with optional pre-release and build metadata. */
export function isSemver(value: string): boolean {
    return /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/.test(
        value,
    );
}

/** True for plain objects (what YAML maps parse into). */
export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes DNS-1123 subdomain: DNS-1123 labels joined by '.', at most 253 characters. */
export function isDns1123Subdomain(value: string): boolean {
    return value.length <= 253 && DNS_1123_SUBDOMAIN.test(value);
}

/** A DNS-1035 label (what Kubernetes Service names must be): a DNS-1123 label that starts with a letter. */
export function isDns1035Label(value: string): boolean {
    return value.length <= 63 && DNS_1035_LABEL.test(value);
}

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/**
 * A Kubernetes qualified name (label and annotation keys, apimachinery IsQualifiedName): an
 * optional DNS-1123 subdomain prefix and '/', then a name of at most 63 characters of letters,
 * digits, '-', '_' and '.', starting and ending with a letter or digit.
 */
export function isQualifiedName(value: string): boolean {
    const parts = value.split("/");
    if (parts.length > 2) {
        return false;
    }
    const name = parts[parts.length - 1];
    if (parts.length === 2 && (parts[0].length === 0 || !isDns1123Subdomain(parts[0]))) {
        return false;
    }
    return name.length > 0 && name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A Kubernetes label value: empty, or at most 63 letters, digits, '-', '_', '.', starting and ending alphanumeric. */
export function isLabelValue(value: string): boolean {
    return value.length <= 63 && LABEL_VALUE.test(value);
}

const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** A Kubernetes environment variable name (apimachinery IsEnvVarName): not `.`, `..` or starting with `..`. */
export function isEnvVarName(value: string): boolean {
    return ENV_VAR_NAME.test(value) && value !== "." && !value.startsWith("..");
}

// The Docker reference grammar (github.com/distribution/reference regexp.go).
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const IMAGE_REFERENCE = new RegExp(
    `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@((?:sha256:[a-f0-9]{64})|(?:sha384:[a-f0-9]{96})|(?:sha512:[a-f0-9]{128})))?$`,
);

/** The parts of a Docker image reference, or undefined when it is not one. */
export interface ImageReference {
    readonly name: string;
    readonly tag?: string;
    readonly digest?: string;
}

/**
 * Parses a Docker image reference (`[registry[:port]/]path[:tag][@digest]`): lower-case path
 * components, a tag of at most 128 word characters, '.' and '-', a sha256/384/512 digest, the
 * name at most 255 characters.
 */
export function parseImageReference(value: string): ImageReference | undefined {
    const m = IMAGE_REFERENCE.exec(value);
    if (m === null || m[1].length > 255) {
        return undefined;
    }
    return { name: m[1], ...(m[2] !== undefined ? { tag: m[2] } : {}), ...(m[3] !== undefined ? { digest: m[3] } : {}) };
}

const QUANTITY = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/;

/** A Kubernetes resource quantity (apimachinery resource.ParseQuantity): `128Mi`, `0.5`, `100m`, `1e3`. */
export function isQuantity(value: string): boolean {
    return QUANTITY.test(value);
}

/**
 * Control characters (C0 except tab and line feed, DEL, C1) and the Unicode line separators and
 * bidirectional overrides that make text read differently from what it is.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;

export function hasControlCharacters(value: string): boolean {
    return CONTROL_CHARACTERS.test(value);
}

/** The optimal string alignment (restricted Damerau-Levenshtein) distance: edits, with adjacent swaps as one. */
export function editDistance(a: string, b: string): number {
    // Three rolling rows: the one before last is needed for the adjacent swap.
    let prev2 = new Int32Array(b.length + 1);
    let prev = Int32Array.from({ length: b.length + 1 }, (_, j) => j);
    let cur = new Int32Array(b.length + 1);
    for (let i = 1; i <= a.length; i++) {
        cur[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d = Math.min(d, prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        [prev2, prev, cur] = [prev, cur, prev2];
    }
    return prev[b.length];
}

/**
 * The known key that `key` is most likely a misspelling of: the same but for case, '-' or '_'
 * (`Environment`, `environment-file`, `readonlyrootfilesystem`), or within an edit distance of
 * 2 (1 for known keys of 4 characters or fewer) after folding case and '-' to '_'.
 */
export function likelyMisspelling(key: string, known: readonly string[]): string | undefined {
    if (known.includes(key)) {
        return undefined;
    }
    const fold = (s: string): string => s.toLowerCase().replace(/-/g, "_");
    const bare = (s: string): string => fold(s).replace(/_/g, "");
    const variant = known.find((k) => fold(k) === fold(key) || bare(k) === bare(key));
    if (variant !== undefined) {
        return variant;
    }
    let best: { key: string; distance: number } | undefined;
    for (const k of known) {
        // Too long to be within the threshold: skip the quadratic distance.
        if (Math.abs(k.length - key.length) > 2) {
            continue;
        }
        const distance = editDistance(fold(key), fold(k));
        if (distance <= (k.length <= 4 ? 1 : 2) && (best === undefined || distance < best.distance)) {
            best = { key: k, distance };
        }
    }
    return best?.key;
}
