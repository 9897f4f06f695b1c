/** Runs real tools over rendered text: Debian's shellcheck, and nft in check mode. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** shellcheck's findings for a bash script (empty string when clean). Throws when shellcheck is missing. */
export function shellcheck(script: string): string {
    const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--format=gcc", "-"], { input: script, encoding: "utf8" });
    if (result.error) {
        throw new Error(`shellcheck is required for the tests (apt-get install shellcheck): ${result.error.message}`);
    }
    return `${result.stdout}${result.stderr}`.trim();
}

/** The script body that a remote invocation carries (between the heredoc markers). */
export function scriptOfInvocation(invocation: string): string {
    const m = /<<'(SOVEREIGN_FAAS_SCRIPT_[0-9a-f]{16})'\n([\s\S]*)\n\1\n\)"/.exec(invocation);
    if (!m) {
        throw new Error("not a sovereign-faas remote invocation");
    }
    return `${m[2]}\n`;
}

/** Whether `nft -c` can run here (needs CAP_NET_ADMIN). */
export function nftAvailable(): boolean {
    const r = spawnSync("nft", ["-c", "-f", "-"], { input: "table inet probe {}\n", encoding: "utf8" });
    return !r.error && r.status === 0;
}

/** Checks an nftables ruleset with `nft -c -f` (parses and validates, changes nothing). */
export function nftCheck(rules: string): { ok: boolean; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-nft-"));
    const file = path.join(dir, "rules.nft");
    fs.writeFileSync(file, rules);
    const r = spawnSync("nft", ["-c", "-f", file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
