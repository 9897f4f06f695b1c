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
/** Heredoc delimiter for running a script through `bash -s`; scripts must never contain it. */
export const HEREDOC_DELIMITER = "SOVEREIGN_FAAS_SCRIPT_EOF";

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
    if (body.includes(HEREDOC_DELIMITER)) {
        throw new Error(`script body for step ${args.step} contains the heredoc delimiter`);
    }
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

${body}

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
    const text = script.endsWith("\n") ? script : `${script}\n`;
    return `${runner} -c "$(cat <<'${HEREDOC_DELIMITER}'\n${text}${HEREDOC_DELIMITER}\n)" sovereign-faas-${step}\n`;
}

/** SHA-256 of a text, hex. */
export function contentHash(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
