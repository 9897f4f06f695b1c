/**
 * Durations as users write them in YAML (`300s`, `5m`, `1h30m`, or a bare number of seconds),
 * normalized to whole seconds so every component compares like with like.
 */

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/** Parses `1h30m`, `5m`, `90s` or `300` (seconds). Returns undefined when the text is not a duration. */
export function parseDurationSeconds(value: unknown): number | undefined {
    if (typeof value === "number") {
        return Number.isInteger(value) && value >= 0 ? value : undefined;
    }
    if (typeof value !== "string") {
        return undefined;
    }
    const text = value.trim();
    if (/^\d+$/.test(text)) {
        return Number(text);
    }
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (!match || text === "") {
        return undefined;
    }
    const [, h, m, s] = match;
    return Number(h ?? 0) * UNIT_SECONDS.h + Number(m ?? 0) * UNIT_SECONDS.m + Number(s ?? 0);
}

/** Renders seconds in the Go duration format that OpenFaaS and NATS read (`5m0s` style is avoided: `300s`). */
export function formatGoDuration(seconds: number): string {
    return `${seconds}s`;
}
