/**
 * Plans a program at two versions and compares them the way the engine would: the upgrade test's
 * tools. A version is either this checkout or a committed one, extracted with `git archive` into
 * a temporary directory that shares this checkout's node_modules.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { comparePlans, ResourceChange } from "../../program/plan/compare";
import { ResourceRecord } from "../../program/plan/recorder";
import { REPO_ROOT } from "./plan";
import { PASSPHRASE_ENV, writeStack } from "./stack";

/**
 * The last commit before the engine review's fixes: what a user has deployed today. Its program
 * must upgrade to this checkout's without a replacement or a delete.
 */
export const UPGRADE_BASELINE = "28bb5c8";

const checkouts = new Map<string, string>();

/** The project at a commit, extracted once per test process. */
export function checkoutAt(commit: string): string {
    const hit = checkouts.get(commit);
    if (hit !== undefined) {
        return hit;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sfaas-${commit}-`));
    try {
        const archive = execFileSync("git", ["-C", REPO_ROOT, "archive", "--format=tar", commit], { maxBuffer: 256 * 1024 * 1024 });
        execFileSync("tar", ["-x", "-C", dir], { input: archive });
    } catch (err) {
        throw new Error(`the upgrade test needs commit ${commit} of this repository's history (a full clone, not a shallow one): ${(err as Error).message}`);
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
    checkouts.set(commit, dir);
    return dir;
}

export interface PlannedVersion {
    readonly status: number | null;
    readonly stderr: string;
    readonly resources: ResourceRecord[];
}

/** Plans the project in `dir` with a stack whose config is `config` (full keys), through this checkout's plan runner. */
export function planProject(dir: string, config: Record<string, unknown>, stack = "upgrade"): PlannedVersion {
    const stackFile = writeStack(dir, stack, config);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-upgrade-plan-"));
    try {
        const r = spawnSync(path.join(REPO_ROOT, "node_modules", ".bin", "tsx"), [path.join(REPO_ROOT, "program", "plan", "cli.ts"), "--dir", dir, "--stack", stack, "--out", out], {
            cwd: dir,
            encoding: "utf8",
            env: { ...process.env, ...PASSPHRASE_ENV },
        });
        const file = path.join(out, "resources.json");
        return { status: r.status, stderr: r.stderr, resources: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as ResourceRecord[]) : [] };
    } finally {
        fs.rmSync(stackFile, { force: true });
        fs.rmSync(out, { recursive: true, force: true });
    }
}

/** The changes from one planned version to the next; throws when either plan failed. */
export function upgrade(before: PlannedVersion, after: PlannedVersion): ResourceChange[] {
    // The older version is planned with today's policy pack, whose newer rules it may fail (exit
    // 1, everything still written): what matters is what it deployed. The new version must pass.
    if (before.status !== 0 && before.status !== 1) {
        throw new Error(`the before plan exited ${before.status}:\n${before.stderr}`);
    }
    if (after.status !== 0) {
        throw new Error(`the after plan exited ${after.status}:\n${after.stderr}`);
    }
    return comparePlans(before.resources, after.resources);
}

/** `name: change (reason)` for every change that is not "same", for readable assertions. */
export function summary(changes: readonly ResourceChange[]): string[] {
    return changes.filter((c) => c.change !== "same").map((c) => `${c.name}: ${c.change}${c.reason ? ` (${c.reason})` : ""}`);
}
