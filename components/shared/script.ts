/**
 * Shell script rendering shared by every remote step.
 *
 * Every script is a pure function of its inputs. It starts with `set -euo pipefail`, carries a
 * machine-readable stamp of the step and the host's declared location (read by the policy pack
 * rule `host-in-allowed-country`), and reports whether it changed anything.
 */
import { createHash } from "crypto";

import type { Location } from "./labels";

/** The stamp line prefix. The policy pack parses the JSON after it. */
export const LOCATION_STAMP_PREFIX = "# sovereign-faas-location: ";
/**
 * Every step appends a line here when it starts and when it ends, so an operator (and the engine
 * tests) can see on the host which steps ran, and when: `<time> <step> started` and
 * `<time> <step> done: <n> change(s)`.
 */
export const STEP_LOG_PATH = "/var/log/sovereign-faas/steps.log";
/** The prefix of every heredoc delimiter; the rest is derived from the heredoc's content (see `heredoc`). */
export const HEREDOC_PREFIX = "SOVEREIGN_FAAS_";

export interface ScriptArgs {
    /** The step's name, printed in messages, e.g. `kernel`. */
    readonly step: string;
    /** The host's declared location, stamped into the script. */
    readonly location: Location;
    /** The body, without the shebang or strict-mode preamble. */
    readonly body: string;
}

/** Quotes a string for POSIX shells. */
export function shellQuote(value: string): string {
    if (/^[A-Za-z0-9_./:=,@%+-]+$/.test(value)) {
        return value;
    }
    return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** The stamp line recording where the host is. Keys are sorted, so the text is deterministic. */
export function locationStamp(location: Location): string {
    const stamp: Record<string, string> = { country: location.country, region: location.region };
    if (location.provider !== undefined) {
        stamp.provider = location.provider;
    }
    if (location.site !== undefined) {
        stamp.site = location.site;
    }
    const sorted = Object.fromEntries(Object.entries(stamp).sort(([a], [b]) => a.localeCompare(b)));
    return LOCATION_STAMP_PREFIX + JSON.stringify(sorted);
}

/**
 * Renders a complete script: shebang, stamp, strict mode, the shared helpers
 * (`log`, `fail`, `changed`) and the body, ending with a one-line change summary.
 */
export function renderScript(args: ScriptArgs): string {
    const step = shellQuote(args.step);
    const body = args.body.replace(/\s+$/, "");
    return `#!/usr/bin/env bash
${locationStamp(args.location)}
set -euo pipefail
export LC_ALL=C
SOVEREIGN_FAAS_STEP=${step}
SOVEREIGN_FAAS_CHANGES=0
log() { printf '[sovereign-faas:%s] %s\\n' "$SOVEREIGN_FAAS_STEP" "$*" >&2; }
fail() { printf '[sovereign-faas:%s] ERROR: %s\\n' "$SOVEREIGN_FAAS_STEP" "$*" >&2; exit 1; }
changed() { SOVEREIGN_FAAS_CHANGES=$((SOVEREIGN_FAAS_CHANGES + 1)); log "changed: $*"; }
if [ "$(id -u)" -ne 0 ]; then fail "must run as root (use sshUser root, or a user with passwordless sudo)"; fi
# The step log is best effort: a read-only /var/log must not fail the step.
step_log() { { mkdir -p ${STEP_LOG_PATH.slice(0, STEP_LOG_PATH.lastIndexOf("/"))}; printf '%s %s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SOVEREIGN_FAAS_STEP" "$*" >> ${STEP_LOG_PATH}; } 2>/dev/null || true; }
step_log started

${body}

step_log "done: $SOVEREIGN_FAAS_CHANGES change(s)"
log "done: $SOVEREIGN_FAAS_CHANGES change(s)"
`;
}

/**
 * The command string a remote Command runs: the script passed to bash as an argument (through
 * `sudo -n` when the SSH user is not root). Passing it as an argument, not on standard input,
 * keeps stdin free, so nothing the script runs can swallow the rest of it. The same string is
 * what the real-host test sends over SSH.
 */
export function remoteInvocation(script: string, user: string, step: string): string {
    const runner = user === "root" ? "bash" : "sudo -n bash";
    return `${runner} -c "$(cat ${heredoc(script, "SCRIPT")}\n)" sovereign-faas-${step}\n`;
}

/**
 * A quoted heredoc of `content`: `<<'D'`, then `rest` (the rest of the command line, e.g.
 * ` || true`), a newline, the content (ending in a newline) and `D`.
 * The delimiter D is derived from the content's hash and is checked against every line of it, so
 * no content, however hostile, can end the heredoc early and run as shell code (a fixed
 * delimiter could be written into a config value). Quoted: nothing inside is expanded.
 */
export function heredoc(content: string, label: string, rest = ""): string {
    const text = content.endsWith("\n") ? content : `${content}\n`;
    const lines = new Set(text.split("\n"));
    let delimiter = `${HEREDOC_PREFIX}${label}_${contentHash(text).slice(0, 16)}`;
    for (let i = 1; lines.has(delimiter); i++) {
        delimiter = `${HEREDOC_PREFIX}${label}_${contentHash(`${i}:${text}`).slice(0, 16)}`;
    }
    return `<<'${delimiter}'${rest}\n${text}${delimiter}`;
}

/** SHA-256 of a text, hex. */
export function contentHash(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
