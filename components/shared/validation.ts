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
