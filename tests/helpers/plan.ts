/** Runs `npm run plan`'s CLI in a child process against a temporary stack file, as CI would. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { PASSPHRASE_ENV, readStackConfig, writeStack } from "./stack";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface CliPlan {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly outDir: string;
    /** resources.json, when written. */
    resources(): Array<{ type: string; name: string; parent: string | null; inputs: Record<string, unknown>; dependsOn: string[] }>;
}

/** The prod stack's config, its secrets as Secret markers, for tests that start from it and change one thing. */
export function prodConfig(): Record<string, unknown> {
    return readStackConfig(path.join(REPO_ROOT, "Pulumi.prod.yaml"));
}

/** Plans a stack whose config is `config` (full keys), using a temporary Pulumi.<name>.yaml. */
export function planWithConfig(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): CliPlan {
    const stack = `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const stackFile = writeStack(REPO_ROOT, stack, config);
    try {
        return planStack(stack, env, extraArgs);
    } finally {
        fs.rmSync(stackFile, { force: true });
    }
}

/** Plans an existing stack file, with the example stacks' passphrase unless `env` says otherwise. */
export function planStack(stack: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): CliPlan {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-plan-"));
    const tsx = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [path.join(REPO_ROOT, "program", "plan", "cli.ts"), "--stack", stack, "--out", outDir, ...extraArgs], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        env: { ...process.env, ...PASSPHRASE_ENV, ...env },
    });
    return {
        status: r.status,
        stdout: r.stdout,
        stderr: r.stderr,
        outDir,
        resources: () => JSON.parse(fs.readFileSync(path.join(outDir, "resources.json"), "utf8")),
    };
}
